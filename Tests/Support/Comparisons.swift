import XCTest

/// The largest |actual − expected| divided by the largest |expected| (or by `floor`, if that is larger): an
/// error relative to the tensor's scale, which stays meaningful where single elements are near zero.
public func relativeError(_ actual: [Float], _ expected: [Float], floor: Float = 1e-12) -> Float {
    guard actual.count == expected.count else { return .infinity }
    var worst: Float = 0, scale: Float = 0
    for (a, e) in zip(actual, expected) {
        guard a.isFinite else { return .infinity }
        worst = max(worst, abs(a - e))
        scale = max(scale, abs(e))
    }
    return worst / max(scale, floor)
}

/// Asserts that `actual` matches `expected` to `tolerance` relative to the largest expected magnitude, or to
/// `floor` where that is larger (for a tensor that is zero but for rounding).
public func assertClose(
    _ actual: [Float], _ expected: [Float], tolerance: Float = 1e-4, floor: Float = 1e-12,
    _ what: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(
        actual.count, expected.count, "\(what()): \(actual.count) values, expected \(expected.count)", file: file,
        line: line)
    let error = relativeError(actual, expected, floor: floor)
    XCTAssertLessThanOrEqual(
        error, tolerance,
        "\(what()): relative error \(error) (first values \(actual.prefix(4)) vs \(expected.prefix(4)))",
        file: file, line: line)
}

/// Asserts that `actual` holds exactly the bits of `expected`. On a mismatch it reports how many values differ
/// and the first of them, not the arrays: a failing comparison of a million values printed gigabytes.
public func assertSameBits(
    _ actual: [Float], _ expected: [Float], _ what: @autoclosure () -> String, file: StaticString = #filePath,
    line: UInt = #line
) {
    guard actual.count == expected.count else {
        return XCTFail("\(what()): \(actual.count) values, expected \(expected.count)", file: file, line: line)
    }
    let differing = actual.indices.filter { actual[$0].bitPattern != expected[$0].bitPattern }
    guard let first = differing.first else { return }
    XCTFail(
        "\(what()): \(differing.count) of \(actual.count) values differ; the first, at \(first): \(actual[first]), "
            + "expected \(expected[first])", file: file, line: line)
}
