@testable import ExperimentService
import Foundation
import Testing

/// The charts' x axis over hours: a young experiment's single hour stands in the middle
/// with one label, and a long one gets at most six labels, each hour once.
@Suite("SVG charts over hours")
struct SVGChartTests {
    @Test("ticks fall on whole positions, at most six, the first included")
    func positionTicks() {
        #expect(SVGChart.positionTicks(0...0, most: 6) == [0])
        #expect(SVGChart.positionTicks(0...5, most: 6) == [0, 1, 2, 3, 4, 5])
        #expect(SVGChart.positionTicks(0...23, most: 6) == [0, 4, 8, 12, 16, 20])
        #expect(SVGChart.positionTicks(0...47, most: 6) == [0, 8, 16, 24, 32, 40])
    }

    @Test("one hour: its point in the middle of the plot, its label once")
    func singleHour() throws {
        let svg = SVGChart.lines(id: "c", title: "t", series: [.init(name: "a", points: [(0, 0.5)])], xLabel: { "hour \(Int($0))" },
                                 yLabel: "y", yRange: 0...1, indexedX: true)
        #expect(svg.components(separatedBy: ">hour 0<").count - 1 == 1, "\(svg)")
        let cx = try #require(Self.attribute("cx", in: svg))
        let middle = SVGChart.margin.left + (SVGChart.width - SVGChart.margin.left - SVGChart.margin.right) / 2
        #expect(abs(cx - middle) < 0.1)
    }

    @Test("many hours: every label names a distinct hour")
    func manyHours() {
        let points = (0..<30).map { (Double($0), Double($0) / 30) }
        let svg = SVGChart.lines(id: "c", title: "t", series: [.init(name: "a", points: points)], xLabel: { "hour \(Int($0))" },
                                 yLabel: "y", yRange: 0...1, indexedX: true)
        let labels = svg.components(separatedBy: ">hour ").dropFirst().map { String($0.prefix { $0 != "<" }) }
        #expect(labels == ["0", "5", "10", "15", "20", "25"])
    }

    static func attribute(_ name: String, in svg: String) -> Double? {
        guard let range = svg.range(of: "\(name)=\"") else { return nil }
        return Double(svg[range.upperBound...].prefix { $0 != "\"" })
    }
}
