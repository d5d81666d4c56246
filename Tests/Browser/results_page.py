"""Loads Switchboard's results page in headless Chromium (Debian's) and prints what the
browser rendered, as JSON: per metric table and arm the exact figures of every cell (and for
a model experiment each model's predictions and class shares), the series each plot drew, the warnings, and the experiment list's row. With --api-key, first
checks that the page shows no data without signing in, then signs in through the form.

    python results_page.py --base http://127.0.0.1:8080 --experiment KEY [--api-key K] [--screenshot FILE] [--output FILE]
"""
import argparse
import json
import sys

from playwright.sync_api import sync_playwright


def read_page(page):
    return page.evaluate(
        """() => {
        const tables = {};
        for (const table of document.querySelectorAll('table[data-metric]')) {
            const arms = {};
            for (const row of table.querySelectorAll('tr[data-arm]')) {
                const cells = {};
                for (const td of row.querySelectorAll('td[data-field]')) {
                    const f = td.dataset.field;
                    if (td.dataset.low !== undefined) {
                        cells[f] = [td.dataset.low === '' ? null : Number(td.dataset.low),
                                    td.dataset.high === '' ? null : Number(td.dataset.high)];
                    } else {
                        cells[f] = td.dataset.value === '' ? null : Number(td.dataset.value);
                    }
                    cells[f + ':text'] = td.textContent;
                }
                arms[row.dataset.arm] = cells;
            }
            tables[table.dataset.metric] = arms;
        }
        const predictions = {};
        for (const row of document.querySelectorAll('table#predictions tr[data-arm]')) {
            const cells = {};
            for (const td of row.querySelectorAll('td[data-field]')) {
                const name = td.dataset.class !== undefined ? 'class ' + td.dataset.class : td.dataset.field;
                cells[name] = td.dataset.value === '' ? null : Number(td.dataset.value);
            }
            predictions[row.dataset.arm] = cells;
        }
        const charts = {};
        for (const svg of document.querySelectorAll('svg[data-chart]')) {
            const box = svg.getBoundingClientRect();
            charts[svg.dataset.chart] = {
                series: Array.from(svg.querySelectorAll('[data-series]')).map(e => ({
                    name: e.dataset.series, points: Number(e.dataset.points || e.querySelectorAll('rect').length)})),
                bands: Array.from(svg.querySelectorAll('[data-band]')).map(e => e.dataset.band),
                width: box.width, height: box.height,
            };
        }
        return {
            title: document.title,
            verdict: (document.getElementById('verdict') || {}).textContent || null,
            warnings: Array.from(document.querySelectorAll('[data-warning]')).map(e => e.textContent),
            tables: tables,
            predictions: predictions,
            charts: charts,
        };
    }"""
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--experiment", required=True)
    parser.add_argument("--api-key")
    parser.add_argument("--screenshot")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--output", help="write the JSON here instead of standard output")
    args = parser.parse_args()
    out = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        url = f"{args.base}/results/{args.experiment}"
        if args.api_key:
            response = page.goto(url)
            out["without_key"] = {
                "status": response.status,
                "login_form": page.locator("form.login").count(),
                "tables": page.locator("table[data-metric]").count(),
            }
            page.fill("#key", "not-a-key")
            page.click("button[type=submit]")
            out["wrong_key_tables"] = page.locator("table[data-metric]").count()
            page.fill("#key", args.api_key)
            page.click("button[type=submit]")
            page.wait_for_load_state()
            cookies = page.context.cookies()
            out["cookie_http_only"] = all(c["httpOnly"] for c in cookies) and len(cookies) == 1
            out["cookie_readable_by_script"] = page.evaluate("() => document.cookie")
        response = page.goto(url)
        out["status"] = response.status
        out.update(read_page(page))
        if args.screenshot:
            page.screenshot(path=args.screenshot, full_page=True)
        page.goto(f"{args.base}/results")
        row = page.locator(f'tr[data-experiment="{args.experiment}"]')
        out["list_row"] = {
            "found": row.count(),
            "decisions": row.locator('td[data-field="decisions"]').get_attribute("data-value") if row.count() else None,
        }
        browser.close()
    if args.output:
        with open(args.output, "w") as f:
            json.dump(out, f)
    else:
        json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
