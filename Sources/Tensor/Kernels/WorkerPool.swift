import Foundation
import Synchronization

/// The threads `Kernels.parallel` hands its pieces to: piece 0 runs on the calling thread, piece p on worker p.
///
/// Workers spin for a while after each piece, watching for the next job, before they sleep. Waking a sleeping
/// thread took about 50 µs on the 2-core development VM, longer than most loops of a training step, so with
/// GCD's `concurrentPerform` (which parks its threads) a 110 µs loop ran no faster on two threads than on
/// one; a spinning worker ran it 1.95x faster (see the commit that added this). Only a process that asked
/// for several compute threads has workers, so MPI ranks of one thread each never spin.
///
/// One caller at a time uses the workers: a `parallel` call made while they are busy (from inside a piece,
/// or from another thread such as the batch loader) runs its pieces itself, in order. Which thread runs a
/// piece never changes what the piece computes.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// Pieces of the current job the workers have finished.
    private let finished = Atomic<Int>(0)
    /// Whether a caller owns the workers.
    private let busy = Atomic<Bool>(false)
    /// The current job, written before the workers' `assigned` counters are bumped and read by each worker
    /// after it sees its own bump.
    private var job: ((Int) -> Void)?
    private var workers: [Worker] = []
    private let lock = NSLock()

    /// How long a worker spins for the next job before it sleeps.
    static let spinNanoseconds: UInt64 = 300_000

    /// Runs `body(piece)` for every piece in `0..<pieces`, spread over the calling thread and the workers;
    /// returns when all are done.
    func run(pieces: Int, _ body: (Int) -> Void) {
        guard pieces > 1, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for piece in 0..<pieces { body(piece) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        startWorkers(upTo: pieces - 1)
        withoutActuallyEscaping(body) { body in
            job = body
            finished.store(0, ordering: .relaxed)
            for worker in workers.prefix(pieces - 1) {
                worker.assigned.add(1, ordering: .sequentiallyConsistent)
                if worker.sleeping.load(ordering: .sequentiallyConsistent) { worker.wake.signal() }
            }
            body(0)
            // Spin for the workers' pieces; yield the core now and then in case a worker waits for it (more
            // threads than cores).
            var spins = 0
            while finished.load(ordering: .acquiring) < pieces - 1 {
                spins += 1
                if spins & 1023 == 0 { sched_yield() }
            }
            job = nil
        }
    }

    private func startWorkers(upTo count: Int) {
        lock.lock()
        defer { lock.unlock() }
        while workers.count < count {
            let worker = Worker(piece: workers.count + 1)
            workers.append(worker)
            let thread = Thread { [unowned self] in self.serve(worker) }
            thread.name = "swiftgan compute \(worker.piece)"
            thread.start()
        }
    }

    /// A worker's life: wait for its next assignment (spinning, then sleeping), run its piece of the job.
    private func serve(_ worker: Worker) {
        var seen = 0
        while true {
            var spinStart = DispatchTime.now().uptimeNanoseconds
            var spins = 0
            while worker.assigned.load(ordering: .acquiring) == seen {
                spins += 1
                if spins & 255 == 0, DispatchTime.now().uptimeNanoseconds - spinStart > Self.spinNanoseconds {
                    worker.sleeping.store(true, ordering: .sequentiallyConsistent)
                    // An assignment made after this check signals `wake`; one made before it is seen here.
                    if worker.assigned.load(ordering: .sequentiallyConsistent) == seen { worker.wake.wait() }
                    worker.sleeping.store(false, ordering: .sequentiallyConsistent)
                    spinStart = DispatchTime.now().uptimeNanoseconds
                }
            }
            seen += 1
            job?(worker.piece)
            finished.add(1, ordering: .releasing)
        }
    }

    final class Worker: @unchecked Sendable {
        let piece: Int
        /// Jobs given to this worker so far; it runs one piece per increment.
        let assigned = Atomic<Int>(0)
        let sleeping = Atomic<Bool>(false)
        let wake = DispatchSemaphore(value: 0)
        init(piece: Int) { self.piece = piece }
    }
}
