package backup

// Progress follows a save, verify or restore; cmd/backup shows it as a
// bar or as log lines. Nil means none.
type Progress interface {
	// Start is called once what will be read is known: the stream's
	// uncompressed bytes as the stream counts them, and its messages.
	Start(stream string, bytes int64, msgs uint64)
	// Add reports bytes and msgs more done.
	Add(bytes int64, msgs int)
	// Done is called when the work ends, with its error (nil: success).
	Done(err error)
}

type noProgress struct{}

func (noProgress) Start(string, int64, uint64) {}
func (noProgress) Add(int64, int)              {}
func (noProgress) Done(error)                  {}

func progressOr(p Progress) Progress {
	if p == nil {
		return noProgress{}
	}
	return p
}
