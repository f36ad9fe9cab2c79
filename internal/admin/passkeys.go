package admin

// PasskeyDeps are what the passkeys area of the console works with.
type PasskeyDeps struct{}

// passkeyRoutes lists the passkeys area's endpoints.
func (c *ConsoleAPI) passkeyRoutes() []consoleRoute { return nil }
