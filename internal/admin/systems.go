package admin

// SystemDeps are what the systems area of the console works with.
type SystemDeps struct{}

// systemRoutes lists the systems area's endpoints.
func (c *ConsoleAPI) systemRoutes() []consoleRoute { return nil }
