package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"time"
)

// summarize computes the rates and latency percentiles.
func (o *benchPubOptions) summarize(clients []benchClient) *benchResult {
	res := &benchResult{Subject: o.subject, Stream: o.stream, Mode: o.mode(), Size: o.size, Clients: clients}
	res.Msgs, res.Duration, res.MsgsPerSec, res.BytesPerSec, res.Latency = aggregate(clients, o.size)
	return res
}

// aggregate fills in each client's duration and rates and returns the
// run's: the messages of all clients over the time from the first
// client's start to the last one's end, and the percentiles of all their
// latencies.
func aggregate(clients []benchClient, size int) (msgs int, d time.Duration, msgsPerSec, bytesPerSec float64, lat latencyStats) {
	if len(clients) == 0 {
		return 0, 0, 0, 0, latencyStats{}
	}
	start, end := clients[0].start, clients[0].end
	var all []time.Duration
	for i := range clients {
		c := &clients[i]
		c.Duration = c.end.Sub(c.start)
		c.MsgsPerSec, c.BytesPerSec = rates(c.Msgs, size, c.Duration)
		start, end = minTime(start, c.start), maxTime(end, c.end)
		msgs += c.Msgs
		all = append(all, c.latencies...)
	}
	d = end.Sub(start)
	msgsPerSec, bytesPerSec = rates(msgs, size, d)
	return msgs, d, msgsPerSec, bytesPerSec, percentiles(all)
}

// percentiles sorts ds and returns its percentiles.
func percentiles(ds []time.Duration) latencyStats {
	slices.Sort(ds)
	return latencyStats{
		P50: percentile(ds, 0.50), P90: percentile(ds, 0.90), P99: percentile(ds, 0.99), Max: percentile(ds, 1),
	}
}

func rates(msgs, size int, d time.Duration) (float64, float64) {
	secs := max(d.Seconds(), 1e-9)
	return float64(msgs) / secs, float64(msgs*size) / secs
}

// percentile is the nearest-rank q-th percentile of sorted.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// write prints the results like `nats bench`.
func (r *benchResult) write(w io.Writer) {
	writeRates(w, "Pub stats", r.MsgsPerSec, r.BytesPerSec, r.Clients)
	what := "Publish latency"
	if r.Mode == "async" {
		what = "Ack latency"
	}
	writeLatency(w, what, r.Latency)
}

// writeRates prints a run's rate and, with more than one client, each
// client's and their spread.
func writeRates(w io.Writer, what string, msgsPerSec, bytesPerSec float64, clients []benchClient) {
	fmt.Fprintf(w, "%s: %s msgs/sec ~ %s/sec\n", what, count(int64(msgsPerSec)), mib(bytesPerSec))
	if len(clients) > 1 {
		var rs []float64
		for i, c := range clients {
			fmt.Fprintf(w, " [%d] %s msgs/sec ~ %s/sec (%s msgs)\n", i+1, count(int64(c.MsgsPerSec)), mib(c.BytesPerSec), count(c.Msgs))
			rs = append(rs, c.MsgsPerSec)
		}
		lo, avg, hi, sd := spread(rs)
		fmt.Fprintf(w, " min %s | avg %s | max %s | stddev %s msgs\n", count(int64(lo)), count(int64(avg)), count(int64(hi)), count(int64(sd)))
	}
}

func writeLatency(w io.Writer, what string, l latencyStats) {
	fmt.Fprintf(w, "%s: p50 %s | p90 %s | p99 %s | max %s\n", what, us(l.P50), us(l.P90), us(l.P99), us(l.Max))
}

func mib(bytesPerSec float64) string { return fmt.Sprintf("%.2f MiB", bytesPerSec/(1<<20)) }

func us(d time.Duration) string { return d.Round(time.Microsecond).String() }

// spread returns the minimum, mean, maximum and standard deviation.
func spread(xs []float64) (lo, avg, hi, sd float64) {
	lo, hi = slices.Min(xs), slices.Max(xs)
	for _, x := range xs {
		avg += x / float64(len(xs))
	}
	for _, x := range xs {
		sd += (x - avg) * (x - avg) / float64(len(xs))
	}
	return lo, avg, hi, math.Sqrt(sd)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
