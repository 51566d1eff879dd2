import Foundation

/// What a test needs to start its own `mpirun` job.
public enum MPIJob {
    /// `mpirun -np N` with what this machine needs (`--oversubscribe` for more ranks than cores,
    /// `--allow-run-as-root` as root), to put before the program and its arguments.
    public static func launcher(ranks: Int) -> [String] {
        ["mpirun", "-np", "\(ranks)", "--oversubscribe"] + (getuid() == 0 ? ["--allow-run-as-root"] : [])
    }

    /// This process's environment without Open MPI's and PMIx's variables: the test process may itself be an
    /// MPI singleton (the collective tests run in it too), and a job started with them would try to join it.
    public static var environment: [String: String] {
        ProcessInfo.processInfo.environment.filter { key, _ in
            !["OMPI_", "PMIX_", "PMI_", "OPAL_", "ORTE_"].contains { key.hasPrefix($0) }
        }
    }
}
