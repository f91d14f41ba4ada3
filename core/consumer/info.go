package consumer

const (
	// infoScanCap bounds the messages Info reads to count a filtered
	// consumer's unprocessed messages.
	infoScanCap = 100_000
	// fetchScanCap bounds the same count for a delivery's Pending.
	fetchScanCap = 1_000
)

// Info is a consumer's counts for reports.
type Info struct {
	Delivered SeqPair
	AckFloor  SeqPair
	// AckPending is the deliveries awaiting an ack.
	AckPending int
	// Redelivered counts the pending messages delivered more than once.
	Redelivered uint64
	// Unprocessed counts the wanted stream messages not yet delivered:
	// those after Delivered.Stream and those still in Initial. With
	// filters it reads at most infoScanCap messages.
	Unprocessed uint64
	// Waiting is the fetches waiting now, on the leader (0 elsewhere;
	// the FSM does not know it, Leader.Waiting does).
	Waiting     int
	AcksIgnored uint64
}

// Info returns the consumer's counts, read against the local stream.
func (f *FSM) Info(src Source) Info {
	var (
		info    Info
		cfg     Config
		initial int
	)
	f.view(func(c Config, st *State) {
		cfg, initial = c, len(st.Initial)
		info = Info{Delivered: st.Delivered, AckFloor: st.AckFloor, AckPending: len(st.Pending), AcksIgnored: st.AcksIgnored}
		for _, p := range st.Pending {
			if p.Count > 1 {
				info.Redelivered++
			}
		}
	})
	if src != nil {
		info.Unprocessed = uint64(initial) + unprocessedAfter(cfg, src, info.Delivered.Stream, infoScanCap)
	}
	return info
}

// unprocessedAfter counts the wanted messages after stream sequence seq:
// exact without filters, reading at most limit messages with them.
func unprocessedAfter(cfg Config, src Source, seq uint64, limit int) uint64 {
	st := src.State()
	from := max(seq, st.FirstSeq-1) + 1
	if st.Msgs == 0 || from > st.LastSeq {
		return 0
	}
	if len(cfg.FilterSubjects) == 0 {
		return min(st.LastSeq-from+1, st.Msgs)
	}
	var n uint64
	for s := from; s <= st.LastSeq && limit > 0; s, limit = s+1, limit-1 {
		if m, err := src.Get(s); err == nil && cfg.Matches(m.Subject) {
			n++
		}
	}
	return n
}
