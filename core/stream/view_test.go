package stream

import (
	"errors"
	"testing"
)

// scanAll returns the messages a view holds from first on.
func scanAll(t testing.TB, v View, first uint64) []Message {
	t.Helper()
	var out []Message
	if err := v.Scan(first, func(m Message) error { out = append(out, m); return nil }); err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return out
}

func checkScan(t testing.TB, got []Message, first, last uint64) {
	t.Helper()
	want := testMsgs(first, last)
	if len(got) != len(want) {
		t.Fatalf("scan returned %d messages, want %d (%d..%d)", len(got), len(want), first, last)
	}
	for i := range want {
		if !sameMsg(got[i], want[i]) {
			t.Fatalf("scan message %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// testView checks that a view keeps what the store held when it was
// taken while updates append and remove.
func testView(t *testing.T, open func(t testing.TB) Store) {
	s := open(t)
	mustUpdate(t, s, Update{Append: testMsgs(1, 3000), RemoveThrough: 100})
	v, err := s.(Viewer).View()
	if err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, s, Update{Append: testMsgs(3001, 3500), RemoveThrough: 2000})
	mustUpdate(t, s, Update{RemoveThrough: 3500})
	if got := v.State(); !sameState(got, stateOf(101, 3000, 100)) {
		t.Fatalf("view state %+v", got)
	}
	checkScan(t, scanAll(t, v, 0), 101, 3000)
	checkScan(t, scanAll(t, v, 2500), 2500, 3000)
	if got := scanAll(t, v, 3001); len(got) != 0 {
		t.Fatalf("scan past the view's last returned %d messages", len(got))
	}
	stop := errors.New("stop")
	n := 0
	err = v.Scan(0, func(Message) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("Scan did not stop on fn's error: %v after %d", err, n)
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	v2, err := s.(Viewer).View()
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Close()
	if got := scanAll(t, v2, 0); len(got) != 0 {
		t.Fatalf("view of an emptied store returned %d messages", len(got))
	}
}

func TestMemStoreView(t *testing.T) {
	testView(t, func(testing.TB) Store { return NewMemStore() })
}

func TestBadgerStoreView(t *testing.T) {
	testView(t, func(t testing.TB) Store { return openStore(t, openTestDB(t, t.TempDir()), "ORDERS-1") })
}
