package oidc_test

import (
	"encoding/base64"
	"errors"
)

func base64RawURL(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func errorAs(err error, target any) bool { return err != nil && errors.As(err, target) }
