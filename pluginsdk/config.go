package pluginsdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// DecodeConfig decodes a plugin's JSON config block into v, refusing keys
// v does not have. An empty raw leaves v as it is (its defaults).
func DecodeConfig(raw json.RawMessage, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return configError(err)
	}
	return nil
}

// configError rewrites encoding/json's errors into ones that name the key.
func configError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return fmt.Errorf("config key %q: expected %s, got %s", typeErr.Field, typeErr.Type, typeErr.Value)
	}
	msg := err.Error()
	if key, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return fmt.Errorf("unknown config key %s", key)
	}
	return fmt.Errorf("config: %w", err)
}
