// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice The DataPortabilityServers surface of PROTOCOL.md 4 that the local stack implements.
interface IDataPortabilityServers {
    struct AddServerInput {
        address serverAddress;
        string publicKey;
        string serverUrl;
    }

    struct ServerInfo {
        uint256 id;
        address owner;
        address serverAddress;
        string publicKey;
        string url;
    }

    struct TrustedServerInfo {
        uint256 id;
        address owner;
        address serverAddress;
        string publicKey;
        string url;
        uint256 startBlock;
        uint256 endBlock;
    }

    event ServerRegistered(
        uint256 indexed serverId,
        address indexed owner,
        address indexed serverAddress,
        string publicKey,
        string url
    );
    event ServerTrusted(address indexed user, uint256 indexed serverId);

    error ServerAlreadyRegistered();
    error ServerNotFound();
    error EmptyPublicKey();
    error EmptyUrl();
    error ZeroAddress();

    function addAndTrustServerByManager(address ownerAddress, AddServerInput calldata addServerInput) external;

    function trustServerByManager(address userAddress, uint256 serverId) external;

    function serverAddressToId(address serverAddress) external view returns (uint256);

    function servers(uint256 serverId) external view returns (ServerInfo memory);

    function serverByAddress(address serverAddress) external view returns (ServerInfo memory);

    function serversCount() external view returns (uint256);

    function userServers(address userAddress, uint256 serverId) external view returns (TrustedServerInfo memory);

    function userServerIdsLength(address userAddress) external view returns (uint256);

    function userServerIdsAt(address userAddress, uint256 index) external view returns (uint256);

    function userServerIdsValues(address userAddress) external view returns (uint256[] memory);
}
