package meta

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Op names a meta command.
type Op string

// Meta commands.
const (
	// OpPutServer records a server or updates its addresses and tags.
	OpPutServer Op = "put_server"
)

var (
	// ErrUnknownOp is returned by Apply for a command it does not know.
	ErrUnknownOp = errors.New("meta: unknown command")
	// ErrBadCommand is returned for a command missing required fields.
	ErrBadCommand = errors.New("meta: bad command")
)

// command is one meta log entry, as JSON.
type command struct {
	Op     Op      `json:"op"`
	Server *Server `json:"server,omitempty"`
	Stream *Stream `json:"stream,omitempty"`
	Name   string  `json:"name,omitempty"`
	// Streams are the streams a remove_server moves off the server.
	Streams []Stream `json:"streams,omitempty"`
	// Consumer is the consumer of a consumer command.
	Consumer *Consumer `json:"consumer,omitempty"`
}

// PutServer encodes the command recording s.
func PutServer(s Server) ([]byte, error) {
	if s.Name == "" || s.Cluster == "" {
		return nil, fmt.Errorf("%w: put_server needs a name and a cluster address", ErrBadCommand)
	}
	return json.Marshal(command{Op: OpPutServer, Server: &s})
}

func decodeCommand(data []byte) (command, error) {
	var c command
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("%w: %w", ErrBadCommand, err)
	}
	return c, nil
}

func (c command) apply(st *state) error {
	switch c.Op {
	case OpPutServer:
		if c.Server == nil || c.Server.Name == "" {
			return fmt.Errorf("%w: put_server without a server", ErrBadCommand)
		}
		if st.Removed[c.Server.Name] {
			return fmt.Errorf("%w: %s", ErrServerRemoved, c.Server.Name)
		}
		st.Servers[c.Server.Name] = *c.Server
		return nil
	case OpRemoveServer:
		return c.applyRemoveServer(st)
	case OpCreateStream, OpUpdateStream, OpDeleteStream:
		return c.applyStream(st)
	case OpCreateConsumer, OpUpdateConsumer, OpDeleteConsumer:
		return c.applyConsumer(st)
	default:
		return fmt.Errorf("%w %q", ErrUnknownOp, c.Op)
	}
}
