private func checkIndices(_ operation: String, _ indices: [Int], rows: Int) throws {
    if let bad = indices.first(where: { $0 < 0 || $0 >= rows }) {
        throw TensorError.invalidArgument(operation: operation, detail: "index \(bad) is outside 0..<\(rows)")
    }
}

/// Rows of `table` picked by `indices`: (V, D) → (N, D). An embedding lookup.
public func gatherRows(_ table: Tensor, indices: [Int]) throws -> Tensor {
    try Check.rank("embedding", table, [2], "a table (V, D)")
    try checkIndices("embedding", indices, rows: table.shape[0])
    let y = table.sibling([indices.count, table.shape[1]])
    table.backend.gatherRows(table, indices: indices, into: y)
    // One row per index, and the indices are the batch's labels: in reproducible mode the rows are samples.
    if ReproducibleBatch.current != nil { y.samples = indices.count }
    return Tensor.record(
        y, operation: "gatherRows", inputs: [table], rule: Derivatives.ofGatherRows(indices, rows: table.shape[0]))
}

/// Row n of `values` added into row indices[n] of a zero (rows, D) table: the adjoint of `gatherRows`.
public func scatterAddRows(_ values: Tensor, indices: [Int], rows: Int) throws -> Tensor {
    try Check.rank("scatterAddRows", values, [2], "rows (N, D)")
    try checkIndices("scatterAddRows", indices, rows: rows)
    guard indices.count == values.shape[0] else {
        throw TensorError.shapeMismatch(
            operation: "scatterAddRows", detail: "\(indices.count) indices for \(describe(values.shape))")
    }
    let width = values.shape[1]
    let y: Tensor
    if let batch = values.reproducibleBatch {
        let size = batch.chunkSize
        y = try batch.sum(chunks: batch.localChunks(indices.count, "scatterAddRows")) { c in
            let partial = Tensor(zeros: [rows, width], backend: values.backend)
            let (first, end) = (c * size, (c + 1) * size)
            values.backend.scatterAddRows(
                values.chunk(c, of: size), indices: Array(indices[first..<end]), into: partial)
            return partial
        }
    } else {
        y = Tensor(zeros: [rows, width], backend: values.backend)
        values.backend.scatterAddRows(values, indices: indices, into: y)
    }
    return Tensor.record(y, operation: "scatterAddRows", inputs: [values], rule: Derivatives.ofScatterAddRows(indices))
}
