import Foundation

/// An SVG line chart of the logged D and G losses against step, redrawn each epoch.
struct LossChart {
    var points: [(step: Int, discriminator: Float?, generator: Float?)] = []

    func svg(title: String) -> String {
        let (width, height, margin) = (720.0, 360.0, 48.0)
        let steps = points.map { Double($0.step) }
        let values = points.flatMap { [$0.discriminator, $0.generator].compactMap { $0 }.map(Double.init) }.filter(
            \.isFinite)
        let (x0, x1) = (steps.min() ?? 0, max(steps.max() ?? 1, (steps.min() ?? 0) + 1))
        let (y0, y1) = (min(values.min() ?? 0, 0), max(values.max() ?? 1, 1e-6))
        func x(_ s: Double) -> Double { margin + (s - x0) / (x1 - x0) * (width - 2 * margin) }
        func y(_ v: Double) -> Double { height - margin - (v - y0) / (y1 - y0) * (height - 2 * margin) }
        func line(_ pick: ((step: Int, discriminator: Float?, generator: Float?)) -> Float?, colour: String) -> String {
            let coordinates = points.compactMap { p in
                pick(p).map { String(format: "%.1f,%.1f", x(Double(p.step)), y(Double($0))) }
            }
            return
                #"<polyline fill="none" stroke="\#(colour)" stroke-width="1.5" points="\#(coordinates.joined(separator: " "))"/>"#
        }
        let ticks = (0...4).map { i -> String in
            let v = y0 + (y1 - y0) * Double(i) / 4
            return String(
                format: #"<text x="%.0f" y="%.1f" font-size="11" text-anchor="end">%.3g</text>"#, margin - 6, y(v) + 4,
                v)
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(Int(width / 2))" y="20" font-size="14" text-anchor="middle">\(title): losses by step</text>
            <line x1="\(margin)" y1="\(height - margin)" x2="\(width - margin)" y2="\(height - margin)" stroke="#888"/>
            <line x1="\(margin)" y1="\(margin)" x2="\(margin)" y2="\(height - margin)" stroke="#888"/>
            \(ticks.joined(separator: "\n"))
            <text x="\(margin)" y="\(height - margin + 16)" font-size="11">\(Int(x0))</text>
            <text x="\(width - margin)" y="\(height - margin + 16)" font-size="11" text-anchor="end">step \(Int(x1))</text>
            \(line({ $0.discriminator }, colour: "#d62728"))
            \(line({ $0.generator }, colour: "#1f77b4"))
            <text x="\(width - margin - 120)" y="40" font-size="12" fill="#d62728">discriminator</text>
            <text x="\(width - margin - 120)" y="56" font-size="12" fill="#1f77b4">generator</text>
            </svg>

            """
    }
}
