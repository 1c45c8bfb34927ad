package netfault

import (
	"encoding/binary"
	"fmt"
	"os"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// The small part of nfnetlink_queue (linux/netfilter/nfnetlink_queue.h)
// the delayer speaks. Message types are NFNL_SUBSYS_QUEUE<<8 | msg; every
// payload starts with a struct nfgenmsg (family, version, queue number in
// big endian) followed by attributes, their values in big endian.
const (
	nfnlSubsysQueue = 3

	nfqnlMsgPacket  = 0
	nfqnlMsgVerdict = 1
	nfqnlMsgConfig  = 2

	nfqaPacketHdr  = 1 // struct nfqnl_msg_packet_hdr: id be32, hw_protocol be16, hook u8
	nfqaVerdictHdr = 2 // struct nfqnl_msg_verdict_hdr: verdict be32, id be32

	nfqaCfgCmd         = 1 // struct nfqnl_msg_config_cmd: command u8, pad u8, pf be16
	nfqaCfgParams      = 2 // struct nfqnl_msg_config_params: copy_range be32, copy_mode u8
	nfqaCfgQueueMaxlen = 3
	nfqaCfgMask        = 4
	nfqaCfgFlags       = 5

	nfqnlCfgCmdBind  = 1
	nfqnlCopyMeta    = 1
	nfqaCfgFFailOpen = 1

	nfAccept = 1

	queueMaxLen = 16384 // packets the kernel holds for the queue before failing open
	queueRcvBuf = 4 << 20
)

// queueConn is a netlink socket bound to one NFQUEUE in one network
// namespace.
type queueConn struct {
	c   *netlink.Conn
	num uint16
}

// openQueue binds queue num in the namespace whose file is nsPath
// (/run/netns/NAME): metadata-only copies (the delayer needs the packet
// id, not its bytes) and fail-open, so a full queue passes packets
// instead of dropping them.
func openQueue(nsPath string, num uint16) (*queueConn, error) {
	ns, err := os.Open(nsPath)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrQueue, err)
	}
	defer ns.Close()
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: int(ns.Fd())})
	if err != nil {
		return nil, fmt.Errorf("%w: dial in %s: %v", ErrQueue, nsPath, err)
	}
	q := &queueConn{c: c, num: num}
	if err := q.configure(); err != nil {
		c.Close()
		return nil, err
	}
	return q, nil
}

// configure binds the queue and sets its parameters, each acknowledged.
func (q *queueConn) configure() error {
	steps := []struct {
		what string
		data []byte
	}{
		{"bind", cmdAttr(nfqnlCfgCmdBind)},
		{"copy mode", attr(nfqaCfgParams, be32(0), []byte{nfqnlCopyMeta})},
		{"max length", attr(nfqaCfgQueueMaxlen, be32(queueMaxLen))},
		{"fail open", append(attr(nfqaCfgMask, be32(nfqaCfgFFailOpen)), attr(nfqaCfgFlags, be32(nfqaCfgFFailOpen))...)},
	}
	for _, s := range steps {
		if _, err := q.config(s.data); err != nil {
			return fmt.Errorf("%w: %s queue %d: %v", ErrQueue, s.what, q.num, err)
		}
	}
	if err := q.c.SetOption(netlink.NoENOBUFS, true); err != nil {
		return fmt.Errorf("%w: NETLINK_NO_ENOBUFS: %v", ErrQueue, err)
	}
	_ = q.c.SetReadBuffer(queueRcvBuf) // best effort: a small buffer only loses packets to the queue's overflow
	return nil
}

// config sends a NFQNL_MSG_CONFIG with attrs and waits for its ack.
func (q *queueConn) config(attrs []byte) ([]netlink.Message, error) {
	return q.c.Execute(q.message(nfqnlMsgConfig, netlink.Request|netlink.Acknowledge, attrs))
}

func (q *queueConn) message(msg int, flags netlink.HeaderFlags, attrs []byte) netlink.Message {
	data := make([]byte, 4, 4+len(attrs))
	data[0] = unix.AF_UNSPEC
	data[1] = 0 // NFNETLINK_V0
	binary.BigEndian.PutUint16(data[2:], q.num)
	return netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(nfnlSubsysQueue<<8 | msg), Flags: flags},
		Data:   append(data, attrs...),
	}
}

// receive returns the ids of the packets of the next batch the kernel
// queued.
func (q *queueConn) receive() ([]uint32, error) {
	msgs, err := q.c.Receive()
	if err != nil {
		return nil, err
	}
	var ids []uint32
	for _, m := range msgs {
		if m.Header.Type != netlink.HeaderType(nfnlSubsysQueue<<8|nfqnlMsgPacket) || len(m.Data) < 4 {
			continue
		}
		if id, ok := packetID(m.Data[4:]); ok {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// packetID reads the packet id from the attributes of a NFQNL_MSG_PACKET.
func packetID(attrs []byte) (uint32, bool) {
	ad, err := netlink.NewAttributeDecoder(attrs)
	if err != nil {
		return 0, false
	}
	for ad.Next() {
		if b := ad.Bytes(); ad.Type() == nfqaPacketHdr && len(b) >= 4 {
			return binary.BigEndian.Uint32(b), true
		}
	}
	return 0, false
}

// accept issues NF_ACCEPT for packet id.
func (q *queueConn) accept(id uint32) error {
	v := make([]byte, 8)
	binary.BigEndian.PutUint32(v, nfAccept)
	binary.BigEndian.PutUint32(v[4:], id)
	_, err := q.c.Send(q.message(nfqnlMsgVerdict, netlink.Request, attr(nfqaVerdictHdr, v)))
	return err
}

// close closes the socket, which unbinds the queue: the kernel drops the
// packets still held, so release them first.
func (q *queueConn) close() error {
	return q.c.Close()
}

// attr encodes one netlink attribute whose value is the concatenation of
// parts.
func attr(typ uint16, parts ...[]byte) []byte {
	var v []byte
	for _, p := range parts {
		v = append(v, p...)
	}
	ae := netlink.NewAttributeEncoder()
	ae.Bytes(typ, v)
	b, _ := ae.Encode() // cannot fail: one attribute, well under 64 KiB
	return b
}

// cmdAttr is a NFQA_CFG_CMD attribute with command cmd.
func cmdAttr(cmd byte) []byte {
	return attr(nfqaCfgCmd, []byte{cmd, 0, 0, 0})
}

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
