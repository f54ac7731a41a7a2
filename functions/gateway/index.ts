import { app } from "./app.js";

export { UsageSpool } from "../../shared/ledger/usage-spool.js";
export default app;
