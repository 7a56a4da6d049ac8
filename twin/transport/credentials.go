package transport

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// DefaultCredentialsEnv is the environment variable the commands read
// broker credentials from when told to use the environment.
const DefaultCredentialsEnv = "LOCKSTEP_MQTT_CREDENTIALS"

// Credentials are a broker username and password, kept off the command
// line (a URL's userinfo shows in ps). Printing or logging them shows the
// username only: fmt verbs and slog use the redacted form.
type Credentials struct {
	Username string
	Password string
}

// String is "username:<redacted>".
func (c Credentials) String() string { return c.Username + ":<redacted>" }

// Format prints the redacted form for every verb (%v, %+v, %#v, %s, ...).
func (c Credentials) Format(f fmt.State, _ rune) { _, _ = fmt.Fprint(f, c.String()) }

// LogValue logs the redacted form.
func (c Credentials) LogValue() slog.Value { return slog.StringValue(c.String()) }

// IsZero reports whether no credentials were given.
func (c Credentials) IsZero() bool { return c.Username == "" && c.Password == "" }

// LoadCredentials reads "username:password" from the file path or, when
// path is "", from the environment variable env (exactly one of them). One
// trailing newline (\n or \r\n) is removed, nothing else: the password is
// everything after the first colon. Errors name the file or the variable,
// never their content.
func LoadCredentials(path, env string) (Credentials, error) {
	var raw, from string
	switch {
	case path != "" && env != "":
		return Credentials{}, errors.New("transport: credentials: give a file or an environment variable, not both")
	case path != "":
		b, err := os.ReadFile(path)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the path is named below
			}
			return Credentials{}, fmt.Errorf("transport: credentials file %s: %w", path, err)
		}
		raw, from = string(b), "credentials file "+path
	case env != "":
		v, ok := os.LookupEnv(env)
		if !ok {
			return Credentials{}, fmt.Errorf("transport: credentials: environment variable %s is not set", env)
		}
		raw, from = v, "environment variable "+env
	default:
		return Credentials{}, errors.New("transport: credentials: no file or environment variable given")
	}
	raw = strings.TrimSuffix(raw, "\n")
	raw = strings.TrimSuffix(raw, "\r")
	user, pass, ok := strings.Cut(raw, ":")
	switch {
	case !ok || user == "" || pass == "":
		return Credentials{}, fmt.Errorf("transport: %s: want username:password (one line)", from)
	case strings.ContainsAny(user, "\r\n") || strings.ContainsAny(pass, "\r\n"):
		return Credentials{}, fmt.Errorf("transport: %s: want a single line username:password", from)
	}
	return Credentials{Username: user, Password: pass}, nil
}
