import CMPI
import Foundation

/// An MPI error: the call, the rank and MPI's own message.
public struct MPIError: Error, CustomStringConvertible {
    public let call: String
    public let rank: Int
    public let code: Int32
    public let message: String
    public var description: String { "rank \(rank): \(call) failed (\(code)): \(message)" }
}

/// `MPI_COMM_WORLD`. Initialised once per process (as a singleton when started without `mpirun`), with
/// errors returned rather than fatal so that each can be reported with its call and rank.
public final class MPICommunicator: Communicator {
    public static let shared: MPICommunicator = {
        let communicator = MPICommunicator()
        atexit { MPICommunicator.finalize() }
        return communicator
    }()

    public let rank: Int
    public let size: Int
    private let world = swiftgan_comm_world()

    private init() {
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized == 0 {
            var provided: Int32 = 0
            _ = MPI_Init_thread(nil, nil, swiftgan_thread_funneled(), &provided)
        }
        MPI_Comm_set_errhandler(world, swiftgan_errors_return())
        var rank: Int32 = 0, size: Int32 = 1
        MPI_Comm_rank(world, &rank)
        MPI_Comm_size(world, &size)
        self.rank = Int(rank)
        self.size = Int(size)
    }

    static func finalize() {
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        if finalized == 0 { MPI_Finalize() }
    }

    /// Whether this process was started by an MPI launcher (so MPI is worth initialising).
    public static var isLaunchedByMPI: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["OMPI_COMM_WORLD_SIZE"] != nil || environment["PMI_SIZE"] != nil
            || environment["PMIX_RANK"] != nil
    }

    func check(_ code: Int32, _ call: String) throws {
        guard code != swiftgan_success() else { return }
        var buffer = [CChar](repeating: 0, count: Int(swiftgan_max_error_string()))
        var length: Int32 = 0
        MPI_Error_string(code, &buffer, &length)
        let message = String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        throw MPIError(call: call, rank: rank, code: code, message: message)
    }

    public func allreduceSum(_ values: UnsafeMutablePointer<Float>, count: Int) throws {
        try check(
            MPI_Allreduce(swiftgan_in_place(), values, Int32(count), swiftgan_float(), swiftgan_sum(), world),
            "MPI_Allreduce")
    }

    public func allreduceSum(_ values: UnsafeMutablePointer<Double>, count: Int) throws {
        try check(
            MPI_Allreduce(swiftgan_in_place(), values, Int32(count), swiftgan_double(), swiftgan_sum(), world),
            "MPI_Allreduce")
    }

    public func startAllreduceSum(_ values: UnsafeMutablePointer<Float>, count: Int) throws -> PendingReduction {
        let pending = Request(communicator: self)
        try check(
            MPI_Iallreduce(
                swiftgan_in_place(), values, Int32(count), swiftgan_float(), swiftgan_sum(), world, &pending.request),
            "MPI_Iallreduce")
        return pending
    }

    public func allreduceMax(_ value: Double) throws -> Double {
        var v = value
        try check(
            MPI_Allreduce(swiftgan_in_place(), &v, 1, swiftgan_double(), swiftgan_max(), world), "MPI_Allreduce(max)")
        return v
    }

    public func broadcast(_ bytes: UnsafeMutableRawPointer, byteCount: Int, root: Int) throws {
        // MPI counts are Int32: large buffers go in chunks.
        var offset = 0
        while offset < byteCount {
            let chunk = min(byteCount - offset, 1 << 30)
            try check(MPI_Bcast(bytes + offset, Int32(chunk), swiftgan_byte(), Int32(root), world), "MPI_Bcast")
            offset += chunk
        }
    }

    public func allgather(_ value: Double) throws -> [Double] {
        var mine = value
        var all = [Double](repeating: 0, count: size)
        try check(MPI_Allgather(&mine, 1, swiftgan_double(), &all, 1, swiftgan_double(), world), "MPI_Allgather")
        return all
    }

    public func barrier() throws { try check(MPI_Barrier(world), "MPI_Barrier") }

    public func exchange(
        _ outgoing: UnsafeRawPointer, into incoming: UnsafeMutableRawPointer, byteCount: Int, partner: Int
    ) throws {
        var offset = 0
        while offset < byteCount {  // MPI counts are Int32
            let chunk = min(byteCount - offset, 1 << 30)
            try check(
                MPI_Sendrecv(
                    outgoing + offset, Int32(chunk), swiftgan_byte(), Int32(partner), 0, incoming + offset,
                    Int32(chunk), swiftgan_byte(), Int32(partner), 0, world, swiftgan_status_ignore()),
                "MPI_Sendrecv")
            offset += chunk
        }
    }

    public func abort(code: Int32) -> Never {
        MPI_Abort(world, code)
        exit(code)
    }

    final class Request: PendingReduction {
        var request = swiftgan_request_null()
        let communicator: MPICommunicator
        init(communicator: MPICommunicator) { self.communicator = communicator }
        func wait() throws { try communicator.check(MPI_Wait(&request, swiftgan_status_ignore()), "MPI_Wait") }
        func test() throws -> Bool {
            var done: Int32 = 0
            try communicator.check(MPI_Test(&request, &done, swiftgan_status_ignore()), "MPI_Test")
            return done != 0
        }
    }
}
