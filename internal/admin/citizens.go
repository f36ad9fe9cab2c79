package admin

// CitizenDeps are what the citizens area of the console works with.
type CitizenDeps struct{}

// citizenRoutes lists the citizens area's endpoints.
func (c *ConsoleAPI) citizenRoutes() []consoleRoute { return nil }
