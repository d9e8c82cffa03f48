import Foundation
import ReckonCore

/// The inline SVG bar chart of one component: per month a desired bar and, when Waldur holds a
/// value, a confirmed bar, on a shared axis from zero; the audited month is shaded. Every bar is
/// a `<rect class="bar desired|confirmed" data-month=… data-value=…>` with a tooltip, so tests
/// and scripts can read the chart back. No script, no external resource.
public enum AuditChart {
    public static let width = 1080
    public static let height = 280
    /// Bar colours (also the legend's); tests look for them in the rendered pixels.
    public static let desiredColor = "#2563eb"
    public static let confirmedColor = "#ea580c"

    static let left = 84.0, right = 16.0, top = 44.0, bottom = 46.0

    public static func svg(component: AuditComponent, points: [AuditSeriesPoint], highlight: BillingMonth) -> String {
        let plotW = Double(width) - left - right, plotH = Double(height) - top - bottom
        let values = points.flatMap { [$0.desired, $0.confirmed] }.compactMap { $0 }.map(value)
        let (axisTop, step) = scale(values.max() ?? 0)
        let n = max(points.count, 1)
        let group = plotW / Double(n)
        let barW = min(30, max(2, group * 0.36))
        func y(_ v: Double) -> Double { top + plotH - (axisTop > 0 ? v / axisTop * plotH : 0) }

        let unit = component.measuredUnit ?? "amount"
        var s = "<svg class=\"chart\" data-component=\"\(AuditHTML.escape(component.name))\" xmlns=\"http://www.w3.org/2000/svg\" "
        s += "width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" "
        s += "aria-label=\"desired and confirmed \(AuditHTML.escape(component.name)) by month\">\n"
        s += "<rect x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"#ffffff\"/>\n"
        s += "<text x=\"\(f(left))\" y=\"22\" class=\"chart-title\">\(AuditHTML.escape(component.name)) (\(AuditHTML.escape(unit)), unit factor \(AuditHTML.escape(component.unitFactor)))</text>\n"
        // Legend, on the title's line so it never meets the bars.
        let lx = Double(width) - right - 250
        s += "<rect x=\"\(f(lx))\" y=\"12\" width=\"14\" height=\"14\" fill=\"\(desiredColor)\"/><text x=\"\(f(lx + 20))\" y=\"24\" class=\"legend\">desired</text>\n"
        s += "<rect x=\"\(f(lx + 110))\" y=\"12\" width=\"14\" height=\"14\" fill=\"\(confirmedColor)\"/><text x=\"\(f(lx + 130))\" y=\"24\" class=\"legend\">confirmed</text>\n"
        for (i, p) in points.enumerated() where p.month == highlight {
            s += "<rect class=\"audited-month\" x=\"\(f(left + Double(i) * group))\" y=\"\(f(top))\" width=\"\(f(group))\" height=\"\(f(plotH))\" fill=\"#fef3c7\"/>\n"
        }
        // Grid and y axis labels.
        var tick = 0.0
        while tick <= axisTop + step / 2 && step > 0 {
            s += "<line x1=\"\(f(left))\" x2=\"\(f(left + plotW))\" y1=\"\(f(y(tick)))\" y2=\"\(f(y(tick)))\" stroke=\"#e5e7eb\" stroke-width=\"1\"/>"
            s += "<text x=\"\(f(left - 8))\" y=\"\(f(y(tick) + 4))\" text-anchor=\"end\" class=\"tick\">\(label(tick))</text>\n"
            tick += step
        }
        s += "<text transform=\"translate(16 \(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\" class=\"tick\">\(AuditHTML.escape(unit))</text>\n"
        // Bars.
        let labelEvery = max(1, Int((Double(n) / 12).rounded(.up)))
        for (i, p) in points.enumerated() {
            let cx = left + (Double(i) + 0.5) * group
            if let d = p.desired { s += bar("desired", p.month, d, x: cx - barW - 1, w: barW, y: y(value(d)), base: y(0), color: desiredColor) }
            if let c = p.confirmed { s += bar("confirmed", p.month, c, x: cx + 1, w: barW, y: y(value(c)), base: y(0), color: confirmedColor) }
            if i % labelEvery == 0 || p.month == highlight {
                s += "<text x=\"\(f(cx))\" y=\"\(f(top + plotH + 18))\" text-anchor=\"middle\" class=\"tick\(p.month == highlight ? " audited" : "")\">\(p.month)</text>\n"
            }
        }
        s += "<line x1=\"\(f(left))\" x2=\"\(f(left + plotW))\" y1=\"\(f(y(0)))\" y2=\"\(f(y(0)))\" stroke=\"#374151\" stroke-width=\"1\"/>\n"
        s += "<line x1=\"\(f(left))\" x2=\"\(f(left))\" y1=\"\(f(top))\" y2=\"\(f(y(0)))\" stroke=\"#374151\" stroke-width=\"1\"/>\n"
        return s + "</svg>"
    }

    static func bar(_ kind: String, _ month: BillingMonth, _ a: WaldurAmount, x: Double, w: Double, y: Double, base: Double, color: String) -> String {
        "<rect class=\"bar \(kind)\" data-month=\"\(month)\" data-value=\"\(a)\" x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(w))\" height=\"\(f(max(0, base - y)))\" fill=\"\(color)\"><title>\(month) \(kind) \(a)</title></rect>\n"
    }

    /// A round axis top (1, 2, 2.5 or 5 × 10^k steps, about four of them) covering `maxValue`.
    static func scale(_ maxValue: Double) -> (top: Double, step: Double) {
        guard maxValue > 0 else { return (1, 0.25) }
        let raw = maxValue / 4
        let mag = pow(10, (log10(raw)).rounded(.down))
        let step = [1, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        return ((maxValue / step).rounded(.up) * step, step)
    }

    static func value(_ a: WaldurAmount) -> Double { Double(a.hundredths) / 100 }

    static func label(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return String(format: "%.2f", v)
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }
}
