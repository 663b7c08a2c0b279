import * as aws from "./sdk.ts";
import * as pulumi from "@pulumi/pulumi";
import { AWS_STS_AUDIENCE } from "../../src/bucket/identity.ts";
import { execKubeconfig } from "../kubeconfig.ts";

export interface EksClusterArgs {
    /** AWS region of the cluster (the AWS provider's): the kubeconfig asks `aws eks get-token` there. */
    region: pulumi.Input<string>;
    /** Kubernetes minor version such as `1.33`; the flux2 chart needs 1.33 or newer. Unset: EKS's default. */
    version?: pulumi.Input<string>;
    /** EC2 instance type of the nodes, e.g. `t3.medium`. */
    instanceType: pulumi.Input<string>;
    /** Number of nodes, at least 1. */
    nodeCount: pulumi.Input<number>;
    /** Subnets of the control plane and the nodes, in at least two availability zones. Unset: the default VPC's. */
    subnetIds?: pulumi.Input<pulumi.Input<string>[]>;
    /** Tags on the cluster, its node group, roles and OIDC provider. */
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

const assumedBy = (service: string) =>
    JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }] });

const MANAGED = "arn:aws:iam::aws:policy";

/**
 * An EKS cluster with a managed node group and the IAM OIDC provider of its service account issuer, which is what
 * IRSA roles trust (FluxBucket's `workloadIdentity`). Made of `aws.eks` resources rather than `@pulumi/eks`, whose
 * cluster (3.x and later) is one resource of the eks plugin: its children cannot be seen or tested under mocks,
 * and the identity pieces here must be. Access entries only (`authenticationMode: API`), the creator as admin.
 */
export class EksCluster extends pulumi.ComponentResource {
    readonly cluster: aws.eks.Cluster;
    readonly nodeGroup: aws.eks.NodeGroup;
    readonly oidcProvider: aws.iam.OpenIdConnectProvider;
    /** The ARN of the IAM OIDC provider for the cluster's service account tokens. */
    readonly oidcProviderArn: pulumi.Output<string>;
    readonly clusterName: pulumi.Output<string>;
    /** A kubeconfig that authenticates with `aws eks get-token` (the AWS CLI and the caller's credentials); a secret. */
    readonly kubeconfig: pulumi.Output<string>;

    constructor(name: string, args: EksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fluxbucket:aws:EksCluster", name, {}, opts);
        const parent = { parent: this };
        const { tags } = args;

        const role = (suffix: string, service: string, policies: string[]) => {
            const created = new aws.iam.Role(`${name}-${suffix}`, { assumeRolePolicy: assumedBy(service), tags }, parent);
            const attached = policies.map(
                (policy) => new aws.iam.RolePolicyAttachment(`${name}-${suffix}-${policy}`, { role: created.name, policyArn: `${MANAGED}/${policy}` }, parent),
            );
            return { role: created, attached };
        };
        const control = role("cluster", "eks.amazonaws.com", ["AmazonEKSClusterPolicy"]);
        const nodes = role("nodes", "ec2.amazonaws.com", ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"]);

        const subnetIds =
            args.subnetIds ??
            aws.ec2
                .getVpcOutput({ default: true }, parent)
                .apply((vpc) => aws.ec2.getSubnetsOutput({ filters: [{ name: "vpc-id", values: [vpc.id] }] }, parent))
                .apply((subnets) => subnets.ids);

        this.cluster = new aws.eks.Cluster(
            name,
            {
                roleArn: control.role.arn,
                version: args.version,
                vpcConfig: { subnetIds, endpointPublicAccess: true },
                accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true },
                tags,
            },
            { parent: this, dependsOn: control.attached },
        );
        this.nodeGroup = new aws.eks.NodeGroup(
            name,
            {
                clusterName: this.cluster.name,
                nodeRoleArn: nodes.role.arn,
                subnetIds,
                instanceTypes: [args.instanceType],
                scalingConfig: { desiredSize: args.nodeCount, minSize: args.nodeCount, maxSize: args.nodeCount },
                tags,
            },
            { parent: this, dependsOn: nodes.attached },
        );
        this.oidcProvider = new aws.iam.OpenIdConnectProvider(
            name,
            { url: this.cluster.identities.apply((identities) => identities[0].oidcs![0].issuer!), clientIdLists: [AWS_STS_AUDIENCE], tags },
            parent,
        );

        this.oidcProviderArn = this.oidcProvider.arn;
        this.clusterName = this.cluster.name;
        this.kubeconfig = pulumi.secret(
            pulumi.all([this.cluster.name, this.cluster.endpoint, this.cluster.certificateAuthority, args.region, this.nodeGroup.id]).apply(
                ([clusterName, server, authority, region]) =>
                    execKubeconfig({
                        name: clusterName,
                        server,
                        certificateAuthorityData: authority.data!,
                        command: "aws",
                        args: ["eks", "get-token", "--cluster-name", clusterName, "--region", region, "--output", "json"],
                        installHint: "bucketops and kubectl call the AWS CLI for a token: install it (https://aws.amazon.com/cli/)",
                    }),
            ),
        );
        this.registerOutputs({ clusterName: this.clusterName, oidcProviderArn: this.oidcProviderArn, kubeconfig: this.kubeconfig });
    }
}
