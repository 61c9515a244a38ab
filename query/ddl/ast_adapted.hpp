// Boost.Fusion adaptation of the DDL AST for the X3 grammar.
#pragma once

#include <boost/fusion/include/adapt_struct.hpp>

#include "query/ddl/ast.hpp"

BOOST_FUSION_ADAPT_STRUCT(cmdb::ddl::ast::TypeSpec, name, args)
BOOST_FUSION_ADAPT_STRUCT(cmdb::ddl::ast::Constraint, kind, value)
BOOST_FUSION_ADAPT_STRUCT(cmdb::ddl::ast::AttrDef, name, type, constraints)
BOOST_FUSION_ADAPT_STRUCT(cmdb::ddl::ast::Pair, from, to)
BOOST_FUSION_ADAPT_STRUCT(cmdb::ddl::ast::EdgeOption, kind, value)
BOOST_FUSION_ADAPT_STRUCT(cmdb::ddl::ast::ServiceOption, service, criticality)
BOOST_FUSION_ADAPT_STRUCT(cmdb::ddl::ast::CreateNode, is_abstract, name, parent, key, control,
                          service, attrs)
BOOST_FUSION_ADAPT_STRUCT(cmdb::ddl::ast::AlterControl, target, control)
BOOST_FUSION_ADAPT_STRUCT(cmdb::ddl::ast::AlterService, target, option)
BOOST_FUSION_ADAPT_STRUCT(cmdb::ddl::ast::IdentifyRule, strong, attrs)
BOOST_FUSION_ADAPT_STRUCT(cmdb::ddl::ast::AlterIdentify, target, rules, within, scoped_by, shared_with,
                          on_conflict)
BOOST_FUSION_ADAPT_STRUCT(cmdb::ddl::ast::CreateEdge, name, pairs, options, attrs)
BOOST_FUSION_ADAPT_STRUCT(cmdb::ddl::ast::AlterAdd, kind, target, attrs)
BOOST_FUSION_ADAPT_STRUCT(cmdb::ddl::ast::AlterDrop, kind, target, attr)
BOOST_FUSION_ADAPT_STRUCT(cmdb::ddl::ast::AlterKey, target, key)
BOOST_FUSION_ADAPT_STRUCT(cmdb::ddl::ast::AlterConnect, target, pairs)
BOOST_FUSION_ADAPT_STRUCT(cmdb::ddl::ast::AlterEdgeSet, target, option)
BOOST_FUSION_ADAPT_STRUCT(cmdb::ddl::ast::Drop, kind, target)
