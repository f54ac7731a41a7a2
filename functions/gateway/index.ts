import { app } from "./app.js";

export { UsageSpool } from "../../shared/metering/usage-spool.js";
export default app;
