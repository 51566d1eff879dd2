import Foundation
import Tensor

/// The collective operations data-parallel training needs. The trainer sees only this protocol: the MPI
/// implementation runs under `mpirun`, the local one in a single process. Its pairwise `exchange` (from
/// `PairwiseExchange`) serves reproducible mode's tree sums.
public protocol Communicator: PairwiseExchange {

    /// Sums `count` values across ranks, in place, on every rank.
    func allreduceSum(_ values: UnsafeMutablePointer<Float>, count: Int) throws
    func allreduceSum(_ values: UnsafeMutablePointer<Double>, count: Int) throws
    /// Starts summing `count` values across ranks in place; the values are final after `wait()`.
    func startAllreduceSum(_ values: UnsafeMutablePointer<Float>, count: Int) throws -> PendingReduction
    /// The largest of each rank's `value`, on every rank.
    func allreduceMax(_ value: Double) throws -> Double
    /// Copies rank `root`'s `byteCount` bytes to every rank.
    func broadcast(_ bytes: UnsafeMutableRawPointer, byteCount: Int, root: Int) throws
    /// Every rank's `value`, in rank order.
    func allgather(_ value: Double) throws -> [Double]
    func barrier() throws
    /// Ends every rank of the job at once (after a failure), so that none waits forever on the others.
    func abort(code: Int32) -> Never
}

/// A collective under way.
public protocol PendingReduction: AnyObject {
    func wait() throws
    /// Lets the collective advance without blocking (MPI progresses non-blocking collectives only inside MPI
    /// calls); true once it has completed.
    @discardableResult func test() throws -> Bool
}

extension Communicator {
    public var isRoot: Bool { rank == 0 }

    /// Sums one value across ranks.
    public func allreduceSum(_ value: Double) throws -> Double {
        var v = value
        try allreduceSum(&v, count: 1)
        return v
    }

    /// Rank `root`'s `value`, on every rank.
    public func broadcast(_ value: Int, root: Int = 0) throws -> Int {
        var v = Int64(value)
        try broadcast(&v, byteCount: 8, root: root)
        return Int(v)
    }
}

/// One process: every collective is the identity.
public final class LocalCommunicator: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allreduceSum(_ values: UnsafeMutablePointer<Float>, count: Int) throws {}
    public func allreduceSum(_ values: UnsafeMutablePointer<Double>, count: Int) throws {}
    public func startAllreduceSum(_ values: UnsafeMutablePointer<Float>, count: Int) throws -> PendingReduction {
        Finished()
    }
    public func allreduceMax(_ value: Double) throws -> Double { value }
    public func broadcast(_ bytes: UnsafeMutableRawPointer, byteCount: Int, root: Int) throws {}
    public func allgather(_ value: Double) throws -> [Double] { [value] }
    public func barrier() throws {}
    public func exchange(
        _ outgoing: UnsafeRawPointer, into incoming: UnsafeMutableRawPointer, byteCount: Int, partner: Int
    ) throws {
        incoming.copyMemory(from: outgoing, byteCount: byteCount)  // the only partner is this process
    }
    public func abort(code: Int32) -> Never { exit(code) }

    final class Finished: PendingReduction {
        func wait() throws {}
        func test() throws -> Bool { true }
    }
}
