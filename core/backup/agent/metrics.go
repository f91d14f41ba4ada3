package agent

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stratadb/strata/core/backup"
)

// Results of a run, the result label of strata_backup_runs_total.
const (
	resultSuccess = "success"
	resultFailure = "failure"
	resultSkipped = "skipped"
)

// metrics are the agent's Prometheus metrics, in its own registry.
type metrics struct {
	reg         *prometheus.Registry
	lastSuccess *prometheus.GaugeVec
	duration    *prometheus.HistogramVec
	bytes       *prometheus.CounterVec
	compressed  *prometheus.CounterVec
	failures    *prometheus.CounterVec
	runs        *prometheus.CounterVec
	pruned      *prometheus.CounterVec
}

func newMetrics() *metrics {
	stream := []string{"stream"}
	m := &metrics{
		reg: prometheus.NewRegistry(),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "strata_backup_last_success_timestamp_seconds",
			Help: "Unix time the last successful backup of the stream finished.",
		}, stream),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "strata_backup_duration_seconds",
			Help:    "Duration of successful backups (the save that succeeded).",
			Buckets: prometheus.ExponentialBuckets(0.1, 4, 10), // 0.1s .. 7h
		}, stream),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_backup_bytes_total",
			Help: "Uncompressed bytes of successful backups.",
		}, stream),
		compressed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_backup_compressed_bytes_total",
			Help: "Compressed (stored) bytes of successful backups.",
		}, stream),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_backup_failures_total",
			Help: "Failed backup attempts, retried ones included.",
		}, stream),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_backup_runs_total",
			Help: "Scheduled backups by result: success, failure (after its retries) or skipped (the previous one still ran).",
		}, []string{"stream", "result"}),
		pruned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_backup_pruned_total",
			Help: "Backups deleted by retention.",
		}, stream),
	}
	m.reg.MustRegister(m.lastSuccess, m.duration, m.bytes, m.compressed, m.failures, m.runs, m.pruned,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

func (m *metrics) success(stream string, b backup.Backup, took time.Duration, pruned int) {
	m.runs.WithLabelValues(stream, resultSuccess).Inc()
	m.lastSuccess.WithLabelValues(stream).Set(float64(b.Manifest.Finished.UnixNano()) / 1e9)
	m.duration.WithLabelValues(stream).Observe(took.Seconds())
	m.bytes.WithLabelValues(stream).Add(float64(b.Manifest.Bytes))
	m.compressed.WithLabelValues(stream).Add(float64(b.Manifest.Compressed))
	m.pruned.WithLabelValues(stream).Add(float64(pruned))
}

func (m *metrics) failure(stream string) { m.runs.WithLabelValues(stream, resultFailure).Inc() }
func (m *metrics) skipped(stream string) { m.runs.WithLabelValues(stream, resultSkipped).Inc() }
func (m *metrics) attemptFailed(stream string) {
	m.failures.WithLabelValues(stream).Inc()
}
