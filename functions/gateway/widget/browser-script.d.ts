/** Browser scripts are bundled as text (a module rule in wrangler.toml) and served by the gateway. */
declare module "*.browser.js" {
  const source: string;
  export default source;
}
