package stream

import "errors"

// ErrNoView is returned by FSM.View for a store that cannot give a
// point-in-time view.
var ErrNoView = errors.New("stream store has no point-in-time view")

// Viewer is a Store that can give a point-in-time view of its messages:
// an optional ability, found by type assertion. Backups read a stream
// through a view, so the stream keeps taking writes, and its limits keep
// removing messages, while the view still holds every message it began
// with.
type Viewer interface {
	View() (View, error)
}

// View is a store's messages at one point in time.
type View interface {
	// State is the store's state when the view was taken.
	State() State
	// Scan calls fn with the view's messages from sequence first through
	// State().LastSeq, in order; an error from fn stops it.
	Scan(first uint64, fn func(Message) error) error
	// Close releases the view.
	Close() error
}

// View returns a point-in-time view of the stream's messages on this
// replica, with the config it was taken under.
func (f *FSM) View() (View, Config, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.currentStore().(Viewer)
	if !ok {
		return nil, Config{}, ErrNoView
	}
	view, err := v.View()
	return view, f.cfg, err
}
