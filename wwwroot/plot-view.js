// Draws the workbench's Plotly charts. The figure arrives as JSON strings that Blazor passes through untouched, so the
// large heatmap matrices are parsed once here instead of being converted to .NET objects and re-serialised per call.
export async function draw(element, data, layout, config, clicks) {
    const Plotly = await plotly();
    await Plotly.react(element, JSON.parse(data), JSON.parse(layout), JSON.parse(config));
    element.groklensClicks = clicks;
    if (clicks && !element.groklensClickHandler) {
        // A heatmap cell's pointIndex is [row, column], whatever the axis type.
        element.groklensClickHandler = event => {
            const point = event.points && event.points[0];
            if (point && Array.isArray(point.pointIndex) && element.groklensClicks)
                element.groklensClicks.invokeMethodAsync("CellClicked", point.pointIndex[0], point.pointIndex[1]);
        };
        element.on("plotly_click", element.groklensClickHandler);
    }
}

export function purge(element) {
    if (window.Plotly && element) Plotly.purge(element);
}

// plotly.js is a deferred script of the page; it has normally run before the first chart is drawn.
function plotly() {
    return window.Plotly
        ? Promise.resolve(window.Plotly)
        : new Promise(resolve => window.addEventListener("load", () => resolve(window.Plotly), { once: true }));
}
