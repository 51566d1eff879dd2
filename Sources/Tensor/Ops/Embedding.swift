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
    let y = values.sibling([rows, values.shape[1]])
    values.backend.fill(y, with: 0)
    values.backend.scatterAddRows(values, indices: indices, into: y)
    return Tensor.record(y, operation: "scatterAddRows", inputs: [values], rule: Derivatives.ofScatterAddRows(indices))
}
