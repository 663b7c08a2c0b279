import { stringify } from "yaml";

export interface ExecKubeconfig {
    /** Name of the cluster, context and user. */
    name: string;
    /** The API server's https URL. */
    server: string;
    /** Base64 PEM of the cluster's CA. */
    certificateAuthorityData: string;
    /** The credential plugin (client.authentication.k8s.io/v1beta1) and its arguments. */
    command: string;
    args?: string[];
    /** What kubectl prints when the command is missing. */
    installHint: string;
    /** Pass the cluster's details to the plugin (KUBERNETES_EXEC_INFO), as gke-gcloud-auth-plugin wants. */
    provideClusterInfo?: boolean;
}

/** A kubeconfig that holds no credential: each client runs a credential plugin for a short-lived token. */
export function execKubeconfig(config: ExecKubeconfig): string {
    const { name } = config;
    return stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name, cluster: { server: config.server, "certificate-authority-data": config.certificateAuthorityData } }],
        contexts: [{ name, context: { cluster: name, user: name } }],
        "current-context": name,
        users: [
            {
                name,
                user: {
                    exec: {
                        apiVersion: "client.authentication.k8s.io/v1beta1",
                        command: config.command,
                        ...(config.args ? { args: config.args } : {}),
                        installHint: config.installHint,
                        interactiveMode: "Never",
                        ...(config.provideClusterInfo ? { provideClusterInfo: true } : {}),
                    },
                },
            },
        ],
    });
}
