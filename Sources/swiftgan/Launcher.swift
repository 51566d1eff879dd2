import Distributed
import Foundation

/// How a command runs: on MPI when an MPI launcher started it, else as one process.
enum Launcher {
    static func communicator() -> Communicator {
        MPICommunicator.isLaunchedByMPI ? MPICommunicator.shared : LocalCommunicator()
    }

    /// Runs `body`; with several ranks, a failure on any rank is printed with its rank and ends the whole job
    /// (MPI_Abort) instead of leaving the others waiting in a collective.
    static func runOrAbort(_ communicator: Communicator, _ body: () throws -> Void) throws {
        guard communicator.size > 1 else { return try body() }
        do {
            try body()
        } catch {
            FileHandle.standardError.write(Data("Error on rank \(communicator.rank) of \(communicator.size): \(error)\n".utf8))
            communicator.abort(code: 1)
        }
    }
}
