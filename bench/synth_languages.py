"""Generated Go, Ruby and TypeScript code for the analyzer benchmark, like `synth_python.py` for Python.

Each language has a module header, neutral helpers present at base, and template blocks (handlers,
loops with queries, HTTP calls, retry loops, queue fan-out, plain helpers) inserted at head, with names
varied per file. The same five problems per language are what `bench/semgrep/<language>-five.yml` looks for.
"""

from __future__ import annotations

from pathlib import Path

from synth_python import _git

GO_HEADER = """package pkg{i}

import (
\t"database/sql"
\t"fmt"
\t"net/http"
\t"time"
)

var db{i} *sql.DB
"""
GO_NEUTRAL = """
func formatAmount{i}x{k}(cents int64) string {{
\treturn fmt.Sprintf("%d.%02d", cents/100, cents%100)
}}

func chunk{i}x{k}(items []int64, size int) [][]int64 {{
\tvar out [][]int64
\tfor len(items) > size {{
\t\tout = append(out, items[:size])
\t\titems = items[size:]
\t}}
\treturn append(out, items)
}}
"""
GO_BLOCKS = (
    """
func Rates{i}x{k}(w http.ResponseWriter, r *http.Request) {{
\tresp, err := http.Get("https://rates.example.com/EUR")
\tif err != nil {{
\t\thttp.Error(w, err.Error(), http.StatusBadGateway)
\t\treturn
\t}}
\tdefer resp.Body.Close()
}}
""",
    """
func Totals{i}x{k}(ids []int64) map[int64]int64 {{
\tout := map[int64]int64{{}}
\tfor _, id := range ids {{
\t\tvar total int64
\t\t_ = db{i}.QueryRow("SELECT total FROM orders WHERE id = $1", id).Scan(&total)
\t\tout[id] = total
\t}}
\treturn out
}}
""",
    """
func Ship{i}x{k}(ids []int64) {{
\tfor _, id := range ids {{
\t\t_, _ = db{i}.Exec("UPDATE orders SET status = 'shipped' WHERE id = $1", id)
\t}}
}}
""",
    """
func CallWithRetry{i}x{k}(url string) error {{
\tvar err error
\tfor attempt := 0; attempt < 5; attempt++ {{
\t\tif _, err = http.Head(url); err == nil {{
\t\t\treturn nil
\t\t}}
\t\ttime.Sleep(2 * time.Second)
\t}}
\treturn err
}}
""",
    """
var client{i}x{k} = &http.Client{{Transport: http.DefaultTransport}}
""",
    """
func Post{i}x{k}(c *http.Client, url string) (int, error) {{
\tresp, err := c.Post(url, "application/json", nil)
\tif err != nil {{
\t\treturn 0, err
\t}}
\treturn resp.StatusCode, resp.Body.Close()
}}
""",
)

RUBY_HEADER = """# Orders module {i}: controllers and jobs.
require "net/http"

module Shop{i}
"""
RUBY_NEUTRAL = """
  def self.format_amount_{i}_{k}(cents, currency = "EUR")
    units, rest = cents.divmod(100)
    format("%d.%02d %s", units, rest, currency)
  end

  def self.chunk_{i}_{k}(items, size = 100)
    items.each_slice(size).to_a
  end
"""
RUBY_BLOCKS = (
    """
  def self.order_summary_{i}_{k}(customer_ids)
    customer_ids.map do |customer_id|
      customer = Customer.find(customer_id)
      [customer.name, Order.where(customer_id: customer_id).count]
    end
  end
""",
    """
  def self.fetch_rates_{i}_{k}(base = "EUR")
    Net::HTTP.get_response(URI("https://rates.example.com/#{{base}}"))
  end
""",
    """
  def self.welcome_{i}_{k}(users)
    users.each do |user|
      WelcomeWorker.perform_async(user.id)
    end
  end
""",
    """
  def self.mark_shipped_{i}_{k}(orders)
    orders.each do |order|
      order.update(status: "shipped")
    end
  end
""",
    """
  def self.call_with_retry_{i}_{k}(client)
    client.fetch
  rescue IOError
    sleep 2
    retry
  end
""",
    """
  def self.totals_{i}_{k}(orders)
    orders.sum(&:total)
  end
""",
)

TS_HEADER = """// Orders module {i}: routes and helpers.
import express from "express";
import axios from "axios";
import fs from "fs";

export const router{i} = express.Router();
"""
TS_NEUTRAL = """
export function formatAmount{i}x{k}(cents: number, currency = "EUR"): string {{
  return `${{Math.floor(cents / 100)}}.${{String(cents % 100).padStart(2, "0")}} ${{currency}}`;
}}

export function chunk{i}x{k}<T>(items: T[], size = 100): T[][] {{
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}}
"""
TS_BLOCKS = (
    """
export async function totals{i}x{k}(ids: number[]) {{
  const out: Record<number, unknown> = {{}};
  for (const id of ids) {{
    out[id] = await prisma.order.findUnique({{ where: {{ id }} }});
  }}
  return out;
}}
""",
    """
export async function rates{i}x{k}() {{
  const resp = await axios.get("https://rates.example.com/EUR");
  return resp.data;
}}
""",
    """
router{i}.get("/report{k}", (req, res) => {{
  const body = fs.readFileSync("templates/report.html", "utf8");
  res.send(body);
}});
""",
    """
export async function notify{i}x{k}(users: {{ id: string }}[]) {{
  for (const user of users) {{
    await emailQueue.add("welcome", {{ userId: user.id }});
  }}
}}
""",
    """
export async function callWithRetry{i}x{k}(fn: () => Promise<unknown>) {{
  for (let attempt = 0; attempt < 5; attempt++) {{
    try {{
      return await fn();
    }} catch (err) {{
      await sleep(2000);
    }}
  }}
  throw new Error("gave up");
}}
""",
    """
export function total{i}x{k}(orders: {{ total: number }}[]): number {{
  return orders.reduce((sum, o) => sum + o.total, 0);
}}
""",
)


class Language:
    def __init__(self, suffix: str, header: str, neutral: str, blocks: tuple[str, ...], footer: str, pad: str):
        self.suffix, self.header, self.neutral, self.blocks, self.footer, self.pad = (
            suffix,
            header,
            neutral,
            blocks,
            footer,
            pad,
        )


LANGUAGES = {
    "go": Language(".go", GO_HEADER, GO_NEUTRAL, GO_BLOCKS, "", "const limit{i}x{n} = {v}"),
    "ruby": Language(".rb", RUBY_HEADER, RUBY_NEUTRAL, RUBY_BLOCKS, "end\n", "  LIMIT_{i}_{n} = {v}"),
    "typescript": Language(".ts", TS_HEADER, TS_NEUTRAL, TS_BLOCKS, "", "export const LIMIT_{i}_{n} = {v};"),
}


def added_block(lang: Language, i: int, lines: int) -> str:
    """Exactly `lines` lines of new code for file i: template blocks, padded with constants."""
    out: list[str] = []
    k = 0
    while True:
        block = lang.blocks[(i + k) % len(lang.blocks)].format(i=i, k=k).splitlines()
        if len(out) + len(block) > lines:
            break
        out.extend(block)
        k += 1
    out.extend(lang.pad.format(i=i, n=n, v=n * 10) for n in range(lines - len(out)))
    return "\n".join(out) + "\n"


def build_repo(root: Path, files: int, lines_per_file: int, language: str) -> tuple[str, str]:
    """A repo of `files` modules at base; head inserts `lines_per_file` lines into each. -> (base, head)."""
    lang = LANGUAGES[language]
    root.mkdir(parents=True, exist_ok=True)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "commit.gpgsign", "false")
    paths = [root / "shop" / f"pkg{i % 10}" / f"orders_{i}{lang.suffix}" for i in range(files)]
    halves: list[tuple[str, str]] = []
    for i, p in enumerate(paths):
        first = lang.header.format(i=i) + lang.neutral.format(i=i, k=0)
        second = lang.neutral.format(i=i, k=1) + lang.footer
        halves.append((first, second))
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(first + second)
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "base")
    base = _git(root, "rev-parse", "HEAD")
    for i, p in enumerate(paths):
        first, second = halves[i]  # insert in the middle of the module, not only at the end
        p.write_text(first + added_block(lang, i, lines_per_file) + second)
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "head")
    return base, _git(root, "rev-parse", "HEAD")
