package wire_test

import (
	"bytes"
	"fmt"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

func ExampleEncode() {
	env := wire.Envelope{Source: "lkr-12", Seq: 7, At: model.Instant(1748856600250),
		Body: wire.Door{Compartment: "A03", State: wire.DoorOpen}}
	raw, err := wire.Encode(env)
	if err != nil {
		panic(err)
	}
	topic, _ := wire.Topics{}.TopicFor(env)
	fmt.Println(topic)
	fmt.Println(string(raw))
	// Output:
	// lockstep/v1/lockers/lkr-12/event
	// {"msg_id":"lkr-12-7","source":"lkr-12","seq":7,"at":"2025-06-02T09:30:00.250Z","type":"door","v":1,"body":{"compartment":"A03","state":"open"}}
}

func ExampleDecode() {
	payload := []byte(`{"msg_id":"lkr-12-8","source":"lkr-12","seq":8,"at":"2025-06-02T09:30:01.000Z","type":"pickup","v":1,` +
		`"body":{"compartment":"A03","label_id":"L-1001","verified":true,"method":"qr"}}`)
	env, err := wire.Decode("lockstep/v1/lockers/lkr-12/event", payload)
	if err != nil {
		panic(err)
	}
	p := env.Body.(wire.Pickup)
	fmt.Println(env.Type, p.LabelID, p.Verified, env.At)

	_, err = wire.Decode("lockstep/v1/scanners/lkr-12/scan", payload)
	fmt.Println(wire.ErrorReason(err))
	// Output:
	// pickup L-1001 true 2025-06-02T09:30:01.000Z
	// topic_mismatch
}

func ExampleCaptureWriter() {
	var buf bytes.Buffer
	w := wire.NewCaptureWriter(&buf)
	_ = w.Write(wire.CaptureRecord{Topic: "lockstep/v1/orders/mfc-north", Payload: []byte(`{"x":1}`)})
	_ = w.Write(wire.CaptureRecord{Topic: "lockstep/v1/orders/mfc-north", Payload: []byte("garbage")})
	_ = w.Flush()
	fmt.Print(buf.String())

	r := wire.NewCaptureReader(&buf)
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		fmt.Printf("%s %q\n", rec.Topic, rec.Payload)
	}
	// Output:
	// {"topic":"lockstep/v1/orders/mfc-north","payload":{"x":1}}
	// {"topic":"lockstep/v1/orders/mfc-north","payload_b64":"Z2FyYmFnZQ=="}
	// lockstep/v1/orders/mfc-north "{\"x\":1}"
	// lockstep/v1/orders/mfc-north "garbage"
}

func ExampleTopics_ParseTopic() {
	kind, id, err := wire.Topics{Prefix: "acme/lockstep/v1"}.ParseTopic("acme/lockstep/v1/labels/L-1001/state")
	fmt.Println(kind, id, err)
	// Output: label_state L-1001 <nil>
}
