package raftgroup

import (
	"bufio"
	"fmt"
	"net"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/raft"
)

// acceptLoop serves every inbound coalesced connection until the mux closes.
func (c *coalescer) acceptLoop() {
	defer c.wg.Done()
	for {
		conn, err := c.layer.Accept()
		if err != nil {
			return
		}
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.serve(conn)
		}()
	}
}

// serve reads request frames from conn and answers each call as its group
// does. Calls are handed to their groups at once, each on its own
// goroutine, so a group that is slow to answer holds back no other.
func (c *coalescer) serve(conn net.Conn) {
	defer func() { _ = conn.Close() }()
	stop := make(chan struct{})
	out := make(chan coalescedResp, 256)
	written := make(chan struct{})
	go func() {
		defer close(written)
		writeAnswers(conn, out, stop)
	}()
	defer func() { close(stop); <-written }()
	dec := codec.NewDecoder(bufio.NewReaderSize(conn, 64<<10), &codec.MsgpackHandle{})
	for {
		var frame []coalescedReq
		if err := dec.Decode(&frame); err != nil {
			return
		}
		for i := range frame {
			item := frame[i]
			t := c.group(item.Group)
			if t == nil {
				answer(out, stop, coalescedResp{ID: item.ID, Err: fmt.Sprintf("%v: %q", ErrUnknownGroup, item.Group)})
				continue
			}
			go func() { answer(out, stop, t.receive(item, stop)) }()
		}
	}
}

func answer(out chan<- coalescedResp, stop <-chan struct{}, r coalescedResp) {
	select {
	case out <- r:
	case <-stop:
	}
}

// writeAnswers writes the answers ready at each wakeup as one frame.
func writeAnswers(conn net.Conn, out <-chan coalescedResp, stop <-chan struct{}) {
	w := bufio.NewWriterSize(conn, 64<<10)
	enc := codec.NewEncoder(w, &codec.MsgpackHandle{})
	var frame []coalescedResp
	for {
		select {
		case r := <-out:
			frame = append(frame[:0], r)
		case <-stop:
			return
		}
	drain:
		for {
			select {
			case r := <-out:
				frame = append(frame, r)
			default:
				break drain
			}
		}
		if err := enc.Encode(frame); err != nil {
			return
		}
		if err := w.Flush(); err != nil {
			return
		}
	}
}

// receive hands one coalesced call to this group's raft as its own
// transport would (heartbeats to the heartbeat handler, other calls to
// the RPC channel) and returns raft's answer.
func (t *trackingTransport) receive(item coalescedReq, stop <-chan struct{}) coalescedResp {
	req := item.Req
	respCh := make(chan raft.RPCResponse, 1)
	rpc := raft.RPC{Command: &req, RespChan: respCh}
	shut := coalescedResp{ID: item.ID, Err: raft.ErrTransportShutdown.Error()}
	if hb := t.heartbeatHandler(); hb != nil && isHeartbeat(&req) {
		hb(rpc)
	} else {
		select {
		case t.rpcs <- rpc:
		case <-t.done:
			return shut
		case <-stop:
			return shut
		}
	}
	select {
	case r := <-respCh:
		out := coalescedResp{ID: item.ID}
		if resp, ok := r.Response.(*raft.AppendEntriesResponse); ok && resp != nil {
			out.Resp = *resp
		}
		if r.Error != nil {
			out.Err = r.Error.Error()
		}
		return out
	case <-t.done:
		return shut
	case <-stop:
		return shut
	}
}
