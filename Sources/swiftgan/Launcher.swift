import Distributed
import Foundation
import GAN
import Tensor

/// How a command runs: on MPI when an MPI launcher started it, else as one process.
enum Launcher {
    static func communicator() -> Communicator {
        MPICommunicator.isLaunchedByMPI ? MPICommunicator.shared : LocalCommunicator()
    }

    /// The device this rank uses when `requested` is asked for: under mpirun, rank r on a node takes GPU
    /// (requested ordinal + node-local rank) mod the GPU count, so `cuda` gives every rank a GPU of its own
    /// where there are enough, and ranks share them round-robin where there are not (2 ranks on 1 GPU).
    static func device(_ requested: Device, _ communicator: Communicator) throws -> Device {
        guard case let .cuda(ordinal) = requested, communicator.size > 1 else { return requested }
        let count = Device.cudaDeviceCount
        guard count > 0 else {
            _ = try requested.backend
            return requested
        }  // the backend's error says why
        let environment = ProcessInfo.processInfo.environment
        let local = ["OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"].lazy.compactMap {
            environment[$0].flatMap(Int.init)
        }.first
        return .cuda((ordinal + (local ?? communicator.rank)) % count)
    }

    /// Sets the threads this process computes with: `requested` when above 0, else all cores for one process
    /// and the cores divided among the ranks on this machine under mpirun (`OPENBLAS_NUM_THREADS` wins when
    /// set). Asking for more than the machine has is allowed, with a notice from rank 0.
    static func useThreads(_ requested: Int, _ communicator: Communicator) {
        let local = localRanks(communicator)
        ComputeThreads.count = requested > 0 ? requested : ComputeThreads.automatic(localRanks: local)
        if requested > 0, requested * local > ComputeThreads.cores, communicator.isRoot {
            Console.error(
                "notice: \(local) rank(s) × \(requested) threads on this machine oversubscribe its "
                    + "\(ComputeThreads.cores) cores; runtime.threads: 0 chooses for you\n")
        }
    }

    /// The processes of this job on this machine: what Open MPI, MPICH or SLURM says, else all ranks.
    static func localRanks(_ communicator: Communicator) -> Int {
        guard communicator.size > 1 else { return 1 }
        let environment = ProcessInfo.processInfo.environment
        let local = ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"].lazy.compactMap {
            environment[$0].flatMap(Int.init)
        }.first
        return local ?? communicator.size
    }

    /// Runs `body`; with several ranks, a failure on any rank is printed with its rank and ends the whole job
    /// (MPI_Abort) instead of leaving the others waiting in a collective.
    static func runOrAbort(_ communicator: Communicator, _ body: () throws -> Void) throws {
        guard communicator.size > 1 else { return try body() }
        do {
            try body()
        } catch {
            let text = FileProblem.message(error) ?? "\(error)"
            Console.error("Error on rank \(communicator.rank) of \(communicator.size): \(text)\n")
            communicator.abort(code: 1)
        }
    }
}
