/** Browser scripts are bundled as text (a module rule in wrangler.toml) and served by the gateway. */
declare module "*.browser.js" {
  const source: string;
  export default source;
}

/** The dashboard's files and uPlot's, bundled as text the same way. */
declare module "*.browser.css" {
  const source: string;
  export default source;
}
declare module "uplot/dist/uPlot.iife.min.js" {
  const source: string;
  export default source;
}
declare module "uplot/dist/uPlot.min.css" {
  const source: string;
  export default source;
}
