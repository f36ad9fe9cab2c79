package config

import (
	"flag"
	"strconv"
	"time"
)

// The flag.Value of each kind of setting. Flags, UNID_* variables and the
// configuration file all set a setting through its Value, so the three parse
// a value the same way.

type stringValue string

func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }
func (v *stringValue) String() string     { return string(*v) }

type boolValue bool

func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return errParse
	}
	*v = boolValue(b)
	return nil
}
func (v *boolValue) String() string   { return strconv.FormatBool(bool(*v)) }
func (v *boolValue) IsBoolFlag() bool { return true }

type intValue int

func (v *intValue) Set(s string) error {
	n, err := strconv.ParseInt(s, 0, strconv.IntSize)
	if err != nil {
		return errParse
	}
	*v = intValue(n)
	return nil
}
func (v *intValue) String() string { return strconv.Itoa(int(*v)) }

type int64Value int64

func (v *int64Value) Set(s string) error {
	n, err := strconv.ParseInt(s, 0, 64)
	if err != nil {
		return errParse
	}
	*v = int64Value(n)
	return nil
}
func (v *int64Value) String() string { return strconv.FormatInt(int64(*v), 10) }

type uintValue uint

func (v *uintValue) Set(s string) error {
	n, err := strconv.ParseUint(s, 0, strconv.IntSize)
	if err != nil {
		return errParse
	}
	*v = uintValue(n)
	return nil
}
func (v *uintValue) String() string { return strconv.FormatUint(uint64(*v), 10) }

type durationValue time.Duration

func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return errParse
	}
	*v = durationValue(d)
	return nil
}
func (v *durationValue) String() string { return time.Duration(*v).String() }

// errParse is the error of a value that is not of its setting's type; the
// caller names the setting and the expected type.
var errParse = flagError("parse error")

type flagError string

func (e flagError) Error() string { return string(e) }

// Secret is a setting that is either given itself or, through its "-file"
// twin (smtp.password-file, UNID_SMTP_PASSWORD_FILE, --smtp-password-file),
// read from a file, so that passwords, keys and certificates need appear
// neither in the configuration file nor in the environment. Load reads the
// file and trims its trailing newline.
type Secret struct {
	Value string // the secret; after Load also when it came from File
	File  string // the file it was read from, if any
}

// String hides the value, so that printing a Config never shows a secret.
func (s Secret) String() string {
	if s.Value == "" && s.File == "" {
		return ""
	}
	return "[secret]"
}

// IsSet reports whether the secret was given at all.
func (s Secret) IsSet() bool { return s.Value != "" || s.File != "" }

// secretValue sets one half of a Secret; setting one half clears the other,
// so that a later source (environment over file, flag over environment)
// replaces the secret whichever way either gives it.
type secretValue struct {
	s    *Secret
	file bool
}

func (v secretValue) Set(s string) error {
	if v.file {
		*v.s = Secret{File: s}
	} else {
		*v.s = Secret{Value: s}
	}
	return nil
}

func (v secretValue) String() string {
	if v.s == nil {
		return ""
	}
	if v.file {
		return v.s.File
	}
	return "" // never shown, not even as a default
}

var _ flag.Value = secretValue{}

// typeName names what a setting's value must be, for error messages.
func typeName(v flag.Value) string {
	switch v.(type) {
	case *boolValue:
		return "true or false"
	case *intValue, *int64Value:
		return "an integer"
	case *uintValue:
		return "a non-negative integer"
	case *durationValue:
		return "a duration such as 90s, 15m or 12h"
	}
	return "a string"
}
