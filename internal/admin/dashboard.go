package admin

// DashboardDeps are what the dashboard area of the console works with.
type DashboardDeps struct{}

// dashboardRoutes lists the dashboard area's endpoints.
func (c *ConsoleAPI) dashboardRoutes() []consoleRoute { return nil }
