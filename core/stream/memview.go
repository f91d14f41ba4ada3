package stream

var _ Viewer = (*MemStore)(nil)

// View copies the store's message list (not their data, which no update
// changes): memory streams are small enough for that.
func (s *MemStore) View() (View, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrStoreClosed
	}
	v := &memView{state: s.state, msgs: make([]Message, 0, s.state.Msgs)}
	for seq := s.state.FirstSeq; seq <= s.state.LastSeq && s.state.Msgs > 0; seq++ {
		if _, hole := s.holes[seq]; !hole {
			v.msgs = append(v.msgs, *s.at(seq))
		}
	}
	return v, nil
}

type memView struct {
	state State
	msgs  []Message
}

func (v *memView) State() State { return v.state }

func (v *memView) Close() error { return nil }

func (v *memView) Scan(first uint64, fn func(Message) error) error {
	for _, m := range v.msgs {
		if m.Seq < first {
			continue
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	return nil
}
