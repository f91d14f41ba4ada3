package backup

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"time"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/internal/objstore"
)

// Object names inside a backup's directory.
const (
	dataObject     = "data.zst"
	manifestObject = "manifest.json"
)

// idLayout names a backup by the UTC time it started.
const idLayout = "20060102T150405.000Z"

// ToolVersion is written into every manifest.
var ToolVersion = "0.1.0-dev"

// Manifest describes a complete backup; it is written last.
type Manifest struct {
	FormatVersion int                 `json:"format_version"`
	ToolVersion   string              `json:"tool_version"`
	Stream        string              `json:"stream"`
	Config        client.StreamConfig `json:"config"`
	FirstSeq      uint64              `json:"first_seq"`
	LastSeq       uint64              `json:"last_seq"`
	Messages      uint64              `json:"messages"`
	// StreamBytes is the messages' size as the stream counts it.
	StreamBytes uint64 `json:"stream_bytes"`
	// Bytes is the uncompressed size of the data; Compressed is the
	// data object's size and SHA256 its checksum.
	Bytes      int64  `json:"bytes"`
	Compressed int64  `json:"compressed_bytes"`
	SHA256     string `json:"sha256"`
	// Consumers counts the consumer records; ConsumerNames names them.
	Consumers     int       `json:"consumers"`
	ConsumerNames []string  `json:"consumer_names,omitempty"`
	Started       time.Time `json:"started"`
	Finished      time.Time `json:"finished"`
	// Data is the data object's name beside the manifest.
	Data string `json:"data"`
	// Encryption, when set, says the data object was encrypted on the
	// client (Compressed and SHA256 are then the encrypted object's).
	Encryption *Encryption `json:"encryption,omitempty"`
}

// Encryption is how a backup's data object was encrypted, and with
// which key.
type Encryption struct {
	// Cipher is crypt.Cipher.
	Cipher string `json:"cipher"`
	// KeyID names the key (crypt.KeyID), not revealing it.
	KeyID string `json:"key_id"`
}

// Backup is a complete backup found in a store.
type Backup struct {
	// Dir is its key prefix, e.g. "ORDERS/20261126T200102.123Z".
	Dir      string
	Manifest Manifest
}

// ID is the backup's name within its stream's folder.
func (b Backup) ID() string { return path.Base(b.Dir) }

func readManifest(ctx context.Context, store objstore.Store, dir string) (Manifest, error) {
	rc, err := store.Open(ctx, path.Join(dir, manifestObject))
	if err != nil {
		return Manifest{}, err
	}
	defer rc.Close()
	var m Manifest
	data, err := io.ReadAll(io.LimitReader(rc, 1<<20))
	if err == nil {
		err = json.Unmarshal(data, &m)
	}
	if err != nil {
		return Manifest{}, fmt.Errorf("%w: %s/%s: %w", ErrCorrupt, dir, manifestObject, err)
	}
	if m.FormatVersion != FormatVersion {
		return Manifest{}, fmt.Errorf("%w: %s: version %d", ErrVersion, dir, m.FormatVersion)
	}
	if m.Data == "" || path.Base(m.Data) != m.Data {
		return Manifest{}, fmt.Errorf("%w: %s: bad data object name %q", ErrCorrupt, dir, m.Data)
	}
	return m, nil
}

func writeJSON(ctx context.Context, store objstore.Store, key string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	w, err := store.Create(ctx, key)
	if err != nil {
		return err
	}
	if _, err := w.Write(append(data, '\n')); err != nil {
		_ = w.Abort()
		return err
	}
	return w.Close()
}
