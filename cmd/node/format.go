package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
)

// printJSON writes v as indented JSON, the output of every --json flag.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// newTable returns a table rendered to w with a title, like the nats CLI's.
func newTable(w io.Writer, title string, header ...any) table.Writer {
	t := table.NewWriter()
	t.SetOutputMirror(w)
	t.SetStyle(table.StyleRounded)
	t.Style().Title.Align = text.AlignCenter
	t.Style().Format.Header = text.FormatDefault
	t.SetTitle(title)
	t.AppendHeader(table.Row(header))
	return t
}

// humanDur formats a duration like the nats CLI: "0.07s" under a minute,
// "1d2h3m4s" above.
func humanDur(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	d = d.Round(time.Second)
	var b strings.Builder
	if days := d / (24 * time.Hour); days > 0 {
		fmt.Fprintf(&b, "%dd", days)
		d -= days * 24 * time.Hour
	}
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.unit; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			d -= n * u.unit
		}
	}
	return b.String()
}

// count formats a number with thousands separators.
func count[T ~int | ~int32 | ~int64 | ~uint64](n T) string {
	if n < 0 {
		return humanize.Comma(int64(n))
	}
	return humanize.Comma(int64(uint64(n)))
}

// size formats a byte count: "1.2 KiB".
func size(n uint64) string { return humanize.IBytes(n) }

// limit formats a limit where 0 means unlimited.
func limit(n int64, bytes bool) string {
	switch {
	case n <= 0:
		return "unlimited"
	case bytes:
		return size(uint64(n))
	}
	return count(n)
}

// stamp formats a time in UTC to the second.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 MST") }

// sections writes "Label: value" lines with the labels right-aligned, in
// titled sections, like `nats stream info`.
type sections struct {
	heading []string
	rows    [][][2]string
}

// section starts a section titled title.
func (s *sections) section(title string) {
	s.heading = append(s.heading, title)
	s.rows = append(s.rows, nil)
}

// add appends a row to the current section.
func (s *sections) add(label, format string, args ...any) {
	i := len(s.rows) - 1
	s.rows[i] = append(s.rows[i], [2]string{label, fmt.Sprintf(format, args...)})
}

func (s *sections) write(w io.Writer) {
	width := 0
	for _, rows := range s.rows {
		for _, r := range rows {
			width = max(width, len(r[0]))
		}
	}
	for i, title := range s.heading {
		fmt.Fprintf(w, "%s\n\n", title)
		for _, r := range s.rows[i] {
			fmt.Fprintf(w, "%*s: %s\n", width+1, r[0], r[1])
		}
		fmt.Fprintln(w)
	}
}
