#include "migration/records.hpp"

namespace xs::migration {

std::string_view type_name(std::uint32_t type) {
    switch (static_cast<RecordType>(type)) {
    case RecordType::End: return "END";
    case RecordType::GlobalData: return "GLOBAL_DATA";
    case RecordType::ConnectionData: return "CONNECTION_DATA";
    case RecordType::WatchData: return "WATCH_DATA";
    case RecordType::TransactionData: return "TRANSACTION_DATA";
    case RecordType::NodeData: return "NODE_DATA";
    case RecordType::GlobalQuotaData: return "GLOBAL_QUOTA_DATA";
    case RecordType::DomainData: return "DOMAIN_DATA";
    case RecordType::WatchDataExtended: return "WATCH_DATA_EXTENDED";
    case RecordType::XsGlobal: return "XS_GLOBAL";
    case RecordType::XsDomain: return "XS_DOMAIN";
    case RecordType::XsConnection: return "XS_CONNECTION";
    case RecordType::XsTransaction: return "XS_TRANSACTION";
    }
    return "unknown";
}

}  // namespace xs::migration
