package stream

import "testing"

func digestOf(t *testing.T, msgs []Message, remove ...uint64) Digest {
	t.Helper()
	s := NewMemStore()
	if err := s.Update(Update{Append: msgs, Remove: remove}); err != nil {
		t.Fatal(err)
	}
	d, err := DigestOf(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDigest: equal histories have equal digests; any field that differs,
// or a message missing, changes it.
func TestDigest(t *testing.T) {
	base := func() []Message {
		return []Message{
			{Seq: 1, Subject: "a.b", Data: []byte("one"), Time: 10, MsgID: "x"},
			{Seq: 2, Subject: "a.c", Data: []byte("two"), Time: 11, Header: []Header{{Key: "k", Value: "v"}}},
			{Seq: 3, Subject: "a.d", Data: []byte("three"), Time: 12},
		}
	}
	want := digestOf(t, base())
	if want.LastSeq != 3 || len(want.Sum) != 64 {
		t.Fatalf("digest %+v", want)
	}
	if got := digestOf(t, base()); got != want {
		t.Fatalf("same history: %+v, want %+v", got, want)
	}
	changes := map[string]func(m []Message){
		"data":    func(m []Message) { m[0].Data[1] ^= 1 },
		"subject": func(m []Message) { m[1].Subject = "a.x" },
		"time":    func(m []Message) { m[2].Time++ },
		"msg id":  func(m []Message) { m[0].MsgID = "y" },
		"header":  func(m []Message) { m[1].Header[0].Value = "w" },
		// The same bytes split differently between subject and data.
		"boundary": func(m []Message) { m[0].Subject, m[0].Data = "a.bo", []byte("ne") },
	}
	for name, change := range changes {
		msgs := base()
		change(msgs)
		if got := digestOf(t, msgs); got.Sum == want.Sum {
			t.Errorf("%s changed, digest did not", name)
		}
	}
	if got := digestOf(t, base(), 2); got.Sum == want.Sum || got.LastSeq != 3 {
		t.Errorf("a message removed: %+v, want another sum through 3", got)
	}
}
