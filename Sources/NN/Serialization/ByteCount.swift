/// Bytes of a tensor of `shape` with `width`-byte elements, or nil when a size is negative or the product
/// overflows: shapes read from files are checked with it before they size anything.
public func byteCount(of shape: [Int], width: Int) -> Int? {
    var bytes = width
    for size in shape {
        let (next, overflow) = bytes.multipliedReportingOverflow(by: size)
        guard size >= 0, !overflow else { return nil }
        bytes = next
    }
    return bytes
}
