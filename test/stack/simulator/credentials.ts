import { type KeyObject, createPublicKey, generateKeyPair, randomBytes } from "node:crypto";
import { promisify } from "node:util";

/** AWS credentials the Bedrock endpoints accept (SigV4). With a session token, requests must carry it. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** A Google service-account key file, as clients load it (the simulator keeps only the public half). */
export interface ServiceAccountKeyFile {
  type: "service_account";
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  token_uri: string;
}

export interface ServiceAccount {
  publicKey: KeyObject;
  projectId: string;
}

/** The credentials the simulator's Bedrock and Vertex endpoints accept. */
export interface KnownCredentials {
  aws: ReadonlyMap<string, AwsCredentials>;
  serviceAccounts: ReadonlyMap<string, ServiceAccount>;
}

/** Google's token endpoint, the audience every service-account assertion names (whoever serves it). */
export const GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token";
const SIMULATED_PROJECT = "edgegate-simulator";

function randomText(alphabet: string, length: number): string {
  return Array.from(randomBytes(length), (byte) => alphabet.charAt(byte % alphabet.length)).join("");
}

/** A fresh AWS key pair shaped like real ones (AKIA + 16 characters, a 40-character secret). */
export function generateAwsCredentials(): AwsCredentials {
  return {
    accessKeyId: `AKIA${randomText("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)}`,
    secretAccessKey: randomText("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+", 40),
  };
}

/** A fresh service account with a 2048-bit RSA key, its key file as Google would issue it. */
export async function generateServiceAccount(): Promise<ServiceAccountKeyFile> {
  const { privateKey } = await promisify(generateKeyPair)("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  return {
    type: "service_account",
    project_id: SIMULATED_PROJECT,
    private_key_id: randomBytes(20).toString("hex"),
    private_key: privateKey,
    client_email: `edgegate@${SIMULATED_PROJECT}.iam.gserviceaccount.com`,
    token_uri: GOOGLE_TOKEN_AUDIENCE,
  };
}

export function knownCredentials(aws: readonly AwsCredentials[], serviceAccounts: readonly ServiceAccountKeyFile[]): KnownCredentials {
  return {
    aws: new Map(aws.map((credentials) => [credentials.accessKeyId, credentials])),
    serviceAccounts: new Map(
      serviceAccounts.map((key) => [key.client_email, { publicKey: createPublicKey(key.private_key), projectId: key.project_id }]),
    ),
  };
}
