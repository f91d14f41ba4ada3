package main

import (
	"os"

	"github.com/spf13/pflag"

	"github.com/stratadb/strata/core/backup/crypt"
)

// keyOptions name the key of client-side encryption: a file, or the key
// itself in STRATA_BACKUP_KEY (64 hex digits or base64 of 32 bytes).
type keyOptions struct {
	keyFile string
}

func (o *keyOptions) addKeyFlags(f *pflag.FlagSet, what string) {
	f.StringVar(&o.keyFile, "key-file", os.Getenv("STRATA_BACKUP_KEY_FILE"),
		"`file` holding the 32-byte key (64 hex digits or base64) that "+what+
			" (env STRATA_BACKUP_KEY_FILE, or the key itself in STRATA_BACKUP_KEY)")
}

// key returns the key the flags or the environment give, nil for none.
func (o *keyOptions) key() ([]byte, error) {
	if o.keyFile != "" {
		return crypt.KeyFile(o.keyFile)
	}
	if v := os.Getenv("STRATA_BACKUP_KEY"); v != "" {
		return crypt.ParseKey(v)
	}
	return nil, nil
}
