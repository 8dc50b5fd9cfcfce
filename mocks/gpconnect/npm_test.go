package gpconnect

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/npmtest"
)

// TestFHIRKitClient drives the mock with fhir-kit-client, a FHIR client
// nobody here wrote (testdata/npm/fhirkit.mjs): metadata, patient search and
// read, $gpc.getstructuredrecord through its operation API, a slot search
// and a booking.
func TestFHIRKitClient(t *testing.T) {
	dir := npmtest.Dir(t)
	node := npmtest.Require(t, dir, "fhir-kit-client")

	// The real clock: the script books a slot in the week after today.
	m := New(WithSeed(11), WithPatients(5))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	m.Start(l)
	t.Cleanup(func() { require.NoError(t, m.Close()) })

	c := m.Credentials()
	nhs := m.Patients()[2].NHSNumber
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "fhirkit.mjs", m.URL(), c.ProviderASID, c.ConsumerASID, c.ConsumerODS, nhs)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "fhirkit.mjs failed\nstdout: %s\nstderr: %s", stdout.String(), stderr.String())

	var summary struct {
		OK            bool   `json:"ok"`
		PatientID     string `json:"patientId"`
		RecordEntries int    `json:"recordEntries"`
		AppointmentID string `json:"appointmentId"`
	}
	require.NoError(t, json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &summary), "stdout: %s", stdout.String())
	require.True(t, summary.OK)
	require.Equal(t, "3", summary.PatientID)
	require.Positive(t, summary.RecordEntries)

	// What the client did reached the mock.
	var served, booked bool
	for _, e := range m.Journal().Entries() {
		switch e.Kind {
		case "record.served":
			served = e.Keys[keyNHSNumber] == nhs
		case "appointment.booked":
			booked = e.Keys[keyAppointmentID] == summary.AppointmentID && e.Keys[keyNHSNumber] == nhs
		}
	}
	require.True(t, served, "the structured record was served")
	require.True(t, booked, "the appointment was booked")
}
