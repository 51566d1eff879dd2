import Dispatch
import Foundation

/// Assembles the next batch's floats on a background thread while the current step computes, so that a
/// step waits on data only when taking a batch is slower than a step. The floats are plain arrays (tensor
/// memory is the training thread's); `take` turns them into the batch tensor.
final class BatchLoader {
    struct Request: Equatable {
        let indices: [Int]
        let flips: [Bool]?
    }

    let dataset: ImageDataset
    let range: ImageDataset.ValueRange
    private let queue = DispatchQueue(label: "swiftgan.batch-loader")
    private var pending: (request: Request, values: DispatchWorkItem, result: Box)?

    /// Seconds the last `take` waited for its batch.
    private(set) var waitSeconds = 0.0

    final class Box: @unchecked Sendable { var values: [Float] = [] }

    init(dataset: ImageDataset, range: ImageDataset.ValueRange) {
        (self.dataset, self.range) = (dataset, range)
    }

    /// Starts assembling `request` in the background.
    func prefetch(_ request: Request) {
        let (dataset, range, box) = (dataset, range, Box())
        let work = DispatchWorkItem { box.values = dataset.values(request.indices, range: range, flips: request.flips) }
        queue.async(execute: work)
        pending = (request, work, box)
    }

    /// The batch of `request` `(N, C, H, W)` and its labels: the prefetched one when it is this request,
    /// else assembled now. The time spent waiting for it is `waitSeconds`.
    func take(_ request: Request) throws -> (images: Tensor, labels: [Int]) {
        let started = DispatchTime.now().uptimeNanoseconds
        var values: [Float]
        if let pending, pending.request == request {
            pending.values.wait()
            values = pending.result.values
        } else {
            values = dataset.values(request.indices, range: range, flips: request.flips)
        }
        pending = nil
        waitSeconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let side = dataset.imageSize
        let images = try Tensor(values, shape: [request.indices.count, dataset.channels, side, side])
        values = []
        return (images, request.indices.map { dataset.labels[$0] })
    }
}
