package logcheck

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func entries() []*raft.Log {
	return []*raft.Log{
		{Index: 1, Term: 1, Type: raft.LogConfiguration, Data: []byte("config")},
		{Index: 2, Term: 1, Type: raft.LogNoop},
		{Index: 3, Term: 2, Type: raft.LogCommand, Data: []byte("publish"), Extensions: []byte("ext"), AppendedAt: time.Unix(1, 2)},
	}
}

func TestRoundTrip(t *testing.T) {
	under := raft.NewInmemStore()
	s := New(under, "g")
	in := entries()
	if err := s.StoreLogs(in); err != nil {
		t.Fatal(err)
	}
	for i, want := range entries() {
		if !equal(in[i], want) {
			t.Fatalf("StoreLogs changed its argument %d: %+v", i, in[i])
		}
		var got raft.Log
		if err := s.GetLog(want.Index, &got); err != nil {
			t.Fatal(err)
		}
		if !equal(&got, want) {
			t.Fatalf("entry %d: got %+v, want %+v", want.Index, got, want)
		}
		var raw raft.Log
		if err := under.GetLog(want.Index, &raw); err != nil {
			t.Fatal(err)
		}
		if len(raw.Extensions) != len(want.Extensions)+trailerLen {
			t.Fatalf("entry %d stored without its trailer: %x", want.Index, raw.Extensions)
		}
	}
}

func TestNotFoundIsRaftsError(t *testing.T) {
	var l raft.Log
	if err := New(raft.NewInmemStore(), "g").GetLog(7, &l); !errors.Is(err, raft.ErrLogNotFound) {
		t.Fatalf("missing entry: %v", err)
	}
}

func TestEntryWithoutTrailerIsReturned(t *testing.T) {
	under := raft.NewInmemStore()
	old := &raft.Log{Index: 1, Term: 1, Type: raft.LogCommand, Data: []byte("before checksums")}
	if err := under.StoreLog(old); err != nil {
		t.Fatal(err)
	}
	var got raft.Log
	if err := New(under, "g").GetLog(1, &got); err != nil || !equal(&got, old) {
		t.Fatalf("entry written before checksums: %+v, %v", got, err)
	}
}

func TestDamageIsErrCorrupt(t *testing.T) {
	damage := map[string]func(l *raft.Log){
		"bit in data":       func(l *raft.Log) { l.Data[2] ^= 0x10 },
		"data cut short":    func(l *raft.Log) { l.Data = l.Data[:3] },
		"term":              func(l *raft.Log) { l.Term++ },
		"type":              func(l *raft.Log) { l.Type = raft.LogBarrier },
		"bit in extensions": func(l *raft.Log) { l.Extensions[0] ^= 1 },
		"bit in checksum":   func(l *raft.Log) { l.Extensions[len(l.Extensions)-3] ^= 1 },
		"bit in tag":        func(l *raft.Log) { l.Extensions[len(l.Extensions)-1] ^= 1 },
		"trailer cut":       func(l *raft.Log) { l.Extensions = l.Extensions[:2] },
	}
	for name, f := range damage {
		t.Run(name, func(t *testing.T) {
			under := raft.NewInmemStore()
			s := New(under, "g")
			var reported error
			s.OnCorrupt = func(err error) { reported = err }
			if err := s.StoreLogs(entries()); err != nil {
				t.Fatal(err)
			}
			var raw raft.Log
			if err := under.GetLog(3, &raw); err != nil {
				t.Fatal(err)
			}
			f(&raw)
			if err := under.StoreLog(&raw); err != nil {
				t.Fatal(err)
			}
			var got raft.Log
			err := s.GetLog(3, &got)
			if !errors.Is(err, ErrCorrupt) || reported != err {
				t.Fatalf("damaged entry: %v (reported %v), want ErrCorrupt", err, reported)
			}
			t.Log(err)
		})
	}
}

func TestAnotherEntryIsErrCorrupt(t *testing.T) {
	s := New(shifted{raft.NewInmemStore()}, "g")
	if err := s.StoreLogs(entries()); err != nil {
		t.Fatal(err)
	}
	var got raft.Log
	if err := s.GetLog(2, &got); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("entry 3 returned for 2: %v, want ErrCorrupt", err)
	}
}

// shifted returns the entry after the one asked for.
type shifted struct{ *raft.InmemStore }

func (s shifted) GetLog(index uint64, l *raft.Log) error { return s.InmemStore.GetLog(index+1, l) }

func TestIsMonotonic(t *testing.T) {
	if New(raft.NewInmemStore(), "g").IsMonotonic() {
		t.Fatal("inmem store is not monotonic")
	}
	if !New(monotonic{raft.NewInmemStore()}, "g").IsMonotonic() {
		t.Fatal("a monotonic store's decorator must say so")
	}
}

type monotonic struct{ *raft.InmemStore }

func (monotonic) IsMonotonic() bool { return true }

func equal(a, b *raft.Log) bool {
	return a.Index == b.Index && a.Term == b.Term && a.Type == b.Type &&
		bytes.Equal(a.Data, b.Data) && bytes.Equal(a.Extensions, b.Extensions) && a.AppendedAt.Equal(b.AppendedAt)
}
