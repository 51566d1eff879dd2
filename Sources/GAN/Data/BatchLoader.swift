import Dispatch
import Foundation

/// Fills the next batch's tensor on a background thread while the current step computes, so that a step
/// waits on data only when taking a batch is slower than a step. The tensor is allocated here, on the
/// training thread (the buffer pool is that thread's); the background thread only writes its floats.
final class BatchLoader {
    struct Request: Equatable {
        let indices: [Int]
        let flips: [Bool]?
    }

    let dataset: ImageDataset
    let range: ImageDataset.ValueRange
    private let queue = DispatchQueue(label: "swiftgan.batch-loader")
    private var pending: (request: Request, images: Tensor, filled: DispatchWorkItem)?

    /// Seconds the last `take` waited for its batch.
    private(set) var waitSeconds = 0.0

    init(dataset: ImageDataset, range: ImageDataset.ValueRange) {
        (self.dataset, self.range) = (dataset, range)
    }

    /// A pending fill writes into a tensor this loader owns: it ends first.
    deinit { pending?.filled.wait() }

    /// Starts filling `request`'s batch `(N, C, H, W)` in the background.
    func prefetch(_ request: Request) {
        let side = dataset.imageSize
        let images = Tensor(uninitialized: [request.indices.count, dataset.channels, side, side])
        let (dataset, range, target) = (dataset, range, images.pointer)
        let filled = DispatchWorkItem {
            dataset.write(request.indices, range: range, flips: request.flips, into: target)
        }
        queue.async(execute: filled)
        pending = (request, images, filled)
    }

    /// The batch of `request` `(N, C, H, W)` and its labels: the prefetched one when it is this request,
    /// else taken now. The time spent waiting for it is `waitSeconds`.
    func take(_ request: Request) -> (images: Tensor, labels: [Int]) {
        let started = DispatchTime.now().uptimeNanoseconds
        let batch: (images: Tensor, labels: [Int])
        if let pending, pending.request == request {
            pending.filled.wait()
            batch = (pending.images, request.indices.map { dataset.labels[$0] })
        } else {
            pending?.filled.wait()  // its writes must end before its tensor's memory can be reused
            batch = dataset.batch(request.indices, range: range, flips: request.flips)
        }
        pending = nil
        waitSeconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        return batch
    }
}
