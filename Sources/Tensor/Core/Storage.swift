import Foundation

/// Reference-counted float32 memory. Freed buffers go back to `BufferPool`, so a training step that
/// asks for the same sizes every iteration stops calling malloc after the first one.
public final class Storage {
    /// Start of the buffer.
    public let base: UnsafeMutablePointer<Float>
    /// Number of floats the buffer holds (at least the count asked for).
    public let capacity: Int

    /// A buffer of at least `count` floats; contents are undefined unless `zeroed`.
    public init(count: Int, zeroed: Bool = false) {
        let (pointer, capacity) = BufferPool.shared.take(count)
        self.base = pointer
        self.capacity = capacity
        if zeroed { pointer.update(repeating: 0, count: capacity) }
    }

    deinit { BufferPool.shared.give(base, capacity: capacity) }
}

/// Free buffers kept by exact (rounded) capacity. Training asks for the same shapes every step, so
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
    private static func bucket(_ count: Int) -> Int { max(16, (count + 15) & ~15) }

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

    /// Returns every cached buffer to the system.
    public func drain() {
        lock.lock()
        defer { lock.unlock() }
        for (_, pointers) in free { for p in pointers { UnsafeMutableRawPointer(p).deallocate() } }
        free = [:]
        cachedFloats = 0
    }
}
