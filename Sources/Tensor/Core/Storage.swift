import Foundation

/// Reference-counted float32 memory on one device, from that device's backend. Freed buffers go back to the
/// backend's pool, so a training step that asks for the same sizes every iteration stops allocating after
/// the first one.
public final class Storage {
    public let backend: Backend
    /// Device address of the first float (a host address on the CPU).
    public let address: UInt
    /// Number of floats the buffer holds (at least the count asked for).
    public let capacity: Int
    /// Whether `address` is host memory.
    public let isHost: Bool

    /// A buffer of at least `count` floats on `backend`'s device (the host by default); contents undefined.
    public init(count: Int, backend: Backend = CPUBackend.shared) {
        self.backend = backend
        isHost = backend.device == .cpu
        (address, capacity) = backend.allocate(count)
    }

    public var device: Device { backend.device }

    /// The host address of a CPU buffer. Only the CPU backend and explicit host boundaries use it; other
    /// devices' memory is read with `Tensor.scalars` or `Tensor.to(.cpu)`.
    public var base: UnsafeMutablePointer<Float> {
        precondition(isHost, "host pointer asked of \(device) memory: copy the tensor to the host first (to(.cpu))")
        return UnsafeMutablePointer<Float>(bitPattern: address).unsafelyUnwrapped
    }

    deinit { backend.release(address, capacity: capacity) }
}

/// Free host buffers kept by exact (rounded) capacity. Training asks for the same shapes every step, so
/// exact-size buckets hit nearly always and waste nothing; a cap keeps a one-off spike from being hoarded.
public final class BufferPool: @unchecked Sendable {
    public static let shared = BufferPool()

    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var cachedFloats = 0
    private let lock = NSLock()
    /// Upper bound on floats held while unused (1 GiB).
    public var cacheLimit = 1 << 28
    /// Buffers handed out since start; a steady-state training step should not raise `mallocs`.
    public private(set) var mallocs = 0

    /// Rounds to 16 floats (64 bytes) so that near-equal sizes share a bucket and rows stay aligned.
    static func bucket(_ count: Int) -> Int { max(16, (count + 15) & ~15) }

    func take(_ count: Int) -> (UnsafeMutablePointer<Float>, Int) {
        let capacity = Self.bucket(count)
        lock.lock()
        defer { lock.unlock() }
        if let pointer = free[capacity]?.popLast() {
            cachedFloats -= capacity
            return (pointer, capacity)
        }
        mallocs += 1
        let raw = UnsafeMutableRawPointer.allocate(byteCount: capacity * 4, alignment: 64)
        return (raw.bindMemory(to: Float.self, capacity: capacity), capacity)
    }

    func give(_ pointer: UnsafeMutablePointer<Float>, capacity: Int) {
        lock.lock()
        defer { lock.unlock() }
        if cachedFloats + capacity > cacheLimit {
            UnsafeMutableRawPointer(pointer).deallocate()
            return
        }
        free[capacity, default: []].append(pointer)
        cachedFloats += capacity
    }
}
