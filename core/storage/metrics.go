package storage

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratadb/strata/pluginsdk"
)

// metrics are the host's plugin-call metrics, labelled by plugin and
// operation; Host.Collector exposes them.
type metrics struct {
	calls    *prometheus.CounterVec
	seconds  *prometheus.HistogramVec
	restarts *prometheus.CounterVec
	up       *prometheus.GaugeVec
}

func newMetrics() *metrics {
	return &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_plugin_calls_total",
			Help: "Store operations sent to storage plugins, by result (ok, error, unavailable).",
		}, []string{"plugin", "op", "result"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "strata_plugin_call_seconds",
			Help:    "Time of store operations on storage plugins, retries after a restart included.",
			Buckets: prometheus.ExponentialBuckets(50e-6, 2, 16),
		}, []string{"plugin", "op"}),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_plugin_restarts_total",
			Help: "Times a storage plugin was started again after it died.",
		}, []string{"plugin"}),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "strata_plugin_up",
			Help: "1 while the storage plugin process is running and connected, else 0.",
		}, []string{"plugin"}),
	}
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.calls, m.seconds, m.restarts, m.up}
}

// observe records one operation that started at start.
func (m *metrics) observe(plugin, op string, start time.Time, err error) {
	result := "ok"
	switch {
	case errors.Is(err, pluginsdk.ErrPluginUnavailable):
		result = "unavailable"
	case err != nil && !errors.Is(err, pluginsdk.ErrLogNotFound) && !errors.Is(err, pluginsdk.ErrKeyNotFound):
		result = "error"
	}
	m.calls.WithLabelValues(plugin, op, result).Inc()
	m.seconds.WithLabelValues(plugin, op).Observe(time.Since(start).Seconds())
}
